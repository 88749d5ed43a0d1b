"""Learning-rate schedules: warm-up, then constant, inverse square root or exponential decay,
times a factor that training lowers when the dev metric reaches a plateau."""

import keras
import tensorflow as tf

from translit.recipe import TrainConfig


class LearningRate(keras.optimizers.schedules.LearningRateSchedule):
    """The recipe's schedule as a function of the optimizer's step.

    * warm-up: linear from ``learning_rate / warmup_steps`` to ``learning_rate``;
    * ``constant``: ``learning_rate`` afterwards;
    * ``inverse_sqrt``: ``learning_rate * sqrt(warmup_steps / step)`` after the warm-up;
    * ``exponential``: ``learning_rate * decay_rate ** ((step - warmup_steps) / decay_steps)``;
    * everything times ``plateau_scale``, a variable that training multiplies by
      ``plateau_factor`` when the dev metric has not improved for ``plateau_patience``
      evaluations (checkpointed, so a resumed run keeps it).
    """

    def __init__(self, config: TrainConfig, plateau_scale: tf.Variable):
        self.config = config
        self.plateau_scale = plateau_scale

    def __call__(self, step):
        config = self.config
        step = tf.cast(step, tf.float32) + 1.0  # the optimizer counts from 0
        warmup = float(max(config.warmup_steps, 1))
        rate = config.learning_rate * tf.minimum(1.0, step / warmup)
        after = tf.maximum(step, warmup)
        if config.lr_schedule == "inverse_sqrt":
            rate *= tf.sqrt(warmup / after)
        elif config.lr_schedule == "exponential":
            rate *= tf.pow(config.decay_rate, (after - warmup) / config.decay_steps)
        return rate * tf.cast(self.plateau_scale, tf.float32)

    def get_config(self):
        return {"lr_schedule": self.config.lr_schedule}
