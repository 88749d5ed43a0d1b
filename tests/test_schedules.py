"""Learning-rate schedules: warm-up, inverse square root, exponential decay, plateau factor."""

import pytest
import tensorflow as tf

from translit.recipe import TrainConfig
from translit.training.schedules import LearningRate


def _rate(step, scale=1.0, **config):
    schedule = LearningRate(TrainConfig(learning_rate=0.01, **config), tf.Variable(scale))
    return float(schedule(step - 1))  # the optimizer's step counts from 0


def test_constant_without_warmup():
    assert _rate(1) == _rate(10_000) == pytest.approx(0.01)


def test_warmup_is_linear_then_inverse_square_root():
    options = dict(lr_schedule="inverse_sqrt", warmup_steps=100)
    assert _rate(10, **options) == pytest.approx(0.001)
    assert _rate(100, **options) == pytest.approx(0.01)
    assert _rate(400, **options) == pytest.approx(0.005)  # sqrt(100 / 400)


def test_exponential_decay_after_warmup():
    options = dict(lr_schedule="exponential", warmup_steps=10, decay_rate=0.5, decay_steps=100)
    assert _rate(10, **options) == pytest.approx(0.01)
    assert _rate(210, **options) == pytest.approx(0.0025)


def test_plateau_scale_multiplies_the_rate():
    assert _rate(50, scale=0.25) == pytest.approx(0.0025)
