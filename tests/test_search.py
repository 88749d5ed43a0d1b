"""Beam search against a hand-written greedy decoder, n-best order and length limits."""

import numpy as np
import pytest
import tensorflow as tf

from translit.models import build_model
from translit.recipe import ModelConfig
from translit.search import beam_search
from translit.tokenizers import BOS_ID, EOS_ID

VOCAB = 12


@pytest.fixture(scope="module")
def model():
    keras_seed = 3
    tf.keras.utils.set_random_seed(keras_seed)
    return build_model(ModelConfig(embedding_dim=8, units=16, layers=2, dropout=0.0), VOCAB, VOCAB)


def _sources():
    return tf.constant([[5, 6, 7, EOS_ID], [8, EOS_ID, 0, 0], [EOS_ID, 0, 0, 0]])


def _python_greedy(model, source, max_length):
    states = model.encode(source[None])
    token, output = BOS_ID, []
    for _ in range(max_length):
        logits, states = model.decode_step(tf.constant([token]), states)
        token = int(tf.argmax(logits[0]))
        if token == EOS_ID:
            break
        output.append(token)
    return output


def test_beam_one_equals_greedy(model):
    ids, lengths, scores = beam_search(model, _sources(), beam_size=1, max_length_ratio=1.0,
                                       max_length_offset=3)
    for i, source in enumerate(_sources()):
        source_length = int(tf.math.count_nonzero(source))
        expected = _python_greedy(model, source, max_length=source_length + 3)
        assert ids[i, 0, :lengths[i, 0]].numpy().tolist() == expected
    assert scores.shape == (3, 1) and np.all(scores.numpy() <= 0)


def test_n_best_is_sorted_and_distinct(model):
    ids, lengths, scores = beam_search(model, _sources(), beam_size=4, alpha=0.0, n_best=4)
    scores = scores.numpy()
    assert np.all(np.diff(scores, axis=1) <= 1e-6)  # best first (alpha 0: by log-probability)
    for i in range(3):
        hypotheses = {tuple(ids[i, k, :lengths[i, k]].numpy()) for k in range(4)}
        assert len(hypotheses) == 4


def test_output_length_is_limited_by_source_length(model):
    ids, lengths, _ = beam_search(model, _sources(), beam_size=3, max_length_ratio=0.5,
                                  max_length_offset=1)
    source_lengths = np.count_nonzero(_sources().numpy(), axis=1)
    assert np.all(lengths.numpy()[:, 0] <= np.ceil(0.5 * source_lengths) + 1)
    assert np.all(ids.numpy() != EOS_ID)


def test_empty_batch(model):
    ids, lengths, scores = beam_search(model, tf.zeros([0, 3], tf.int32), beam_size=2)
    assert ids.shape[0] == 0 and lengths.shape == (0, 1) and scores.shape == (0, 1)
