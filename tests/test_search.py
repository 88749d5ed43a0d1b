"""Beam search against a hand-written greedy decoder, n-best order, length limits, coverage,
attention weights and ensembles."""

import numpy as np
import pytest
import tensorflow as tf

from translit.data.special_tokens import BOS_ID, EOS_ID
from translit.decoding.search import beam_search, top_k
from translit.models import Ensemble, build_model

VOCAB = 12


def _build(**options):
    tf.keras.utils.set_random_seed(3)
    return build_model(VOCAB, VOCAB, embedding_dim=8, units=16, layers=2, dropout=0.0, **options)


@pytest.fixture(scope="module")
def model():
    return _build()


@pytest.fixture(scope="module")
def attention_model():
    return _build(attention="general", input_feeding=True, bidirectional=True)


def _sources():
    return tf.constant([[5, 6, 7, EOS_ID], [8, EOS_ID, 0, 0], [EOS_ID, 0, 0, 0]])


def _python_greedy(model, source, max_length):
    context, state = model.encode(source[None])
    token, output = BOS_ID, []
    for _ in range(max_length):
        logits, state, _ = model.decode_step(tf.constant([token]), state, context)
        token = int(tf.argmax(logits[0]))
        if token == EOS_ID:
            break
        output.append(token)
    return output


def _python_beam(model, source, beam_size, alpha, max_length):
    """Beam search over the whole vocabulary, one hypothesis at a time: (tokens, log-prob) of
    every kept hypothesis, best first (EOS forced at no cost at the length limit)."""
    def rank(log_prob, length):
        return log_prob / ((5.0 + length) / 6.0) ** alpha

    context, state = model.encode(source[None])
    beams = [((), 0.0, False, state)]  # tokens, log-probability, finished, decoder state
    for t in range(max_length):
        candidates = []
        for tokens, log_prob, finished, state in beams:
            if finished:
                candidates.append((tokens, log_prob, True, state, len(tokens)))
                continue
            previous = tokens[-1] if tokens else BOS_ID
            logits, next_state, _ = model.decode_step(tf.constant([previous]), state, context)
            step = tf.nn.log_softmax(logits[0]).numpy()
            choices = [(EOS_ID, 0.0)] if t + 1 >= max_length else enumerate(step)
            candidates += [(tokens + (v,), log_prob + p, v == EOS_ID, next_state, t + 1)
                           for v, p in choices]
        candidates.sort(key=lambda c: -rank(c[1], c[4]))
        beams = [c[:4] for c in candidates[:beam_size]]
        if all(finished for _, _, finished, _ in beams):
            break
    beams.sort(key=lambda b: -rank(b[1], len(b[0])))
    return [(tokens[:-1] if tokens[-1] == EOS_ID else tokens, log_prob)
            for tokens, log_prob, _, _ in beams]


@pytest.mark.slow
@pytest.mark.parametrize("order", [[0, 1, 2], [2, 0, 1]])  # the shortest sentence last, first
@pytest.mark.parametrize("name", ["model", "attention_model"])
def test_beam_search_equals_a_whole_vocabulary_search(name, order, request):
    model = request.getfixturevalue(name)
    sources = tf.gather(_sources(), order)  # sentences leave the search as they settle
    ids, lengths, scores = beam_search(model, sources, beam_size=3, alpha=0.6, n_best=3,
                                       max_length_ratio=1.0, max_length_offset=2)
    for i, source in enumerate(sources):
        max_length = int(tf.math.count_nonzero(source)) + 2 + 1
        expected = _python_beam(model, source, 3, 0.6, max_length)
        found = [(tuple(ids[i, k, :lengths[i, k]].numpy().tolist()), float(scores[i, k]))
                 for k in range(3)]
        assert [tokens for tokens, _ in found] == [tokens for tokens, _ in expected]
        np.testing.assert_allclose([s for _, s in found], [s for _, s in expected], rtol=1e-5)


@pytest.mark.parametrize("name", ["model", "attention_model"])
def test_beam_one_equals_greedy(name, request):
    model = request.getfixturevalue(name)
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


def test_attention_weights_are_distributions_over_the_source(attention_model):
    ids, lengths, _, attention = beam_search(attention_model, _sources(), beam_size=3,
                                             return_attention=True)
    assert attention.shape[:3] == ids.shape and attention.shape[3] == _sources().shape[1]
    mask = _sources().numpy() != 0
    for i in range(3):
        rows = attention[i, 0, :lengths[i, 0] + 1].numpy()  # output tokens and EOS
        np.testing.assert_allclose(rows.sum(axis=1), 1.0, rtol=1e-5)
        assert np.all(rows[:, ~mask[i]] == 0)  # padding gets no attention


def test_coverage_penalty_changes_only_the_ranking(attention_model):
    plain = beam_search(attention_model, _sources(), beam_size=4, n_best=4)
    covered = beam_search(attention_model, _sources(), beam_size=4, n_best=4, beta=5.0)
    assert covered[0].shape[:2] == plain[0].shape[:2]
    assert np.all(covered[2].numpy() <= 0)


def test_coverage_needs_attention(model):
    with pytest.raises(ValueError, match="attention"):
        beam_search(model, _sources(), beta=0.2)


def test_ensemble_of_one_equals_the_model(attention_model):
    single = beam_search(attention_model, _sources(), beam_size=3, n_best=3)
    ensemble = beam_search(Ensemble([attention_model]), _sources(), beam_size=3, n_best=3)
    np.testing.assert_array_equal(single[0].numpy(), ensemble[0].numpy())
    np.testing.assert_allclose(single[2].numpy(), ensemble[2].numpy(), rtol=1e-5)


def test_ensemble_averages_probabilities(model, attention_model):
    source = _sources()[:1]
    ensemble = Ensemble([model, attention_model])
    context, state = ensemble.encode(source)
    log_probs, _, weights = ensemble.decode_step(tf.constant([BOS_ID]), state, context)
    expected = np.mean([tf.nn.softmax(m.decode_step(tf.constant([BOS_ID]), s, c)[0]).numpy()
                        for m, c, s in zip(ensemble.models, context, state)], axis=0)
    np.testing.assert_allclose(np.exp(log_probs.numpy()), expected, rtol=1e-5)
    assert weights.shape == (1, 4)


@pytest.mark.parametrize("length,k", [(8000, 5), (1001, 3), (50, 4), (7, 7)])
def test_top_k_matches_tensorflow(length, k):
    values = tf.random.stateless_normal((3, 2, length), seed=(length, k))
    expected_values, expected_indices = tf.math.top_k(values, k=k)
    got_values, got_indices = top_k(values, k)
    np.testing.assert_array_equal(got_values, expected_values)
    np.testing.assert_array_equal(got_indices, expected_indices)
