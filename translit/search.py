"""Batched beam search in TensorFlow ops (a ``tf.while_loop``); beam size 1 is greedy search.

The same graph serves ``translit translate``, dev-set evaluation and the exported SavedModel.
"""

import tensorflow as tf

from translit.tokenizers import BOS_ID, EOS_ID, PAD_ID


def length_penalty(lengths, alpha):
    """GNMT length penalty ((5 + length) / 6) ** alpha; alpha 0 scores by plain log-probability."""
    return tf.pow((5.0 + tf.cast(lengths, tf.float32)) / 6.0, alpha)


def beam_search(model, source_ids, beam_size=5, alpha=0.6, max_length_ratio=2.0,
                max_length_offset=10, n_best=1):
    """Finds the best target sequences for a batch of sources.

    Args:
      model: a model with ``encode(source_ids) -> states`` and
        ``decode_step(token_ids, states) -> (logits, states)``.
      source_ids: (batch, src_time) int32, right-padded with 0.
      beam_size: hypotheses kept per sentence (1 = greedy).
      alpha: GNMT length penalty exponent used to rank hypotheses.
      max_length_ratio, max_length_offset: a hypothesis ends (EOS is forced) after
        ``ceil(ratio * source_length) + offset`` tokens.
      n_best: hypotheses returned per sentence (<= beam_size), best first.
    Returns:
      ids (batch, n_best, time) int32 without BOS, EOS and what follows replaced by padding;
      lengths (batch, n_best) int32, tokens before EOS; scores (batch, n_best) float32,
      log-probabilities of the hypotheses (EOS included).
    """
    def empty():
        return (tf.zeros([0, n_best, 0], tf.int32), tf.zeros([0, n_best], tf.int32),
                tf.zeros([0, n_best], tf.float32))

    def search():
        return _beam_search(model, source_ids, beam_size, alpha, max_length_ratio,
                            max_length_offset, n_best)

    return tf.cond(tf.shape(source_ids)[0] > 0, search, empty)  # the LSTMs reject empty batches


def _beam_search(model, source_ids, beam_size, alpha, max_length_ratio, max_length_offset,
                 n_best):
    batch = tf.shape(source_ids)[0]
    source_lengths = tf.reduce_sum(tf.cast(tf.not_equal(source_ids, PAD_ID), tf.float32), axis=1)
    max_lengths = tf.cast(tf.math.ceil(max_length_ratio * source_lengths), tf.int32)
    max_lengths += max_length_offset + 1  # (batch,), EOS included
    limit = tf.reduce_max(max_lengths)

    states = model.encode(source_ids)
    states = tf.nest.map_structure(lambda s: tf.repeat(s, beam_size, axis=0), states)
    first_beam_only = tf.concat([[0.0], tf.fill([beam_size - 1], float("-inf"))], axis=0)
    log_probs = tf.tile(first_beam_only[tf.newaxis], [batch, 1])  # (batch, beam)
    finished = tf.zeros([batch, beam_size], tf.bool)
    lengths = tf.zeros([batch, beam_size], tf.int32)
    sequences = tf.zeros([batch, beam_size, 0], tf.int32)  # (batch, beam, time)
    tokens = tf.fill([batch * beam_size], BOS_ID)

    def not_done(t, tokens, states, log_probs, finished, lengths, sequences):
        return tf.logical_and(t < limit, tf.logical_not(tf.reduce_all(finished)))

    def step(t, tokens, states, log_probs, finished, lengths, sequences):
        logits, states = model.decode_step(tokens, states)
        vocab = tf.shape(logits)[-1]
        step_log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32))
        step_log_probs = tf.reshape(step_log_probs, [batch, beam_size, vocab])
        step_log_probs = tf.where((t + 1 >= max_lengths)[:, None, None],
                                  _only(EOS_ID, vocab), step_log_probs)
        # A finished hypothesis continues with padding at no cost, keeping its score.
        step_log_probs = tf.where(finished[:, :, None], _only(PAD_ID, vocab), step_log_probs)
        candidates = log_probs[:, :, None] + step_log_probs  # (batch, beam, vocab)
        candidate_lengths = tf.where(finished, lengths, t + 1)[:, :, None]
        ranking = candidates / length_penalty(candidate_lengths, alpha)
        _, best = tf.math.top_k(tf.reshape(ranking, [batch, -1]), k=beam_size)  # (batch, beam)
        parents, new_tokens = best // vocab, best % vocab
        log_probs = tf.gather(tf.reshape(candidates, [batch, -1]), best, batch_dims=1)
        was_finished = tf.gather(finished, parents, batch_dims=1)
        lengths = tf.where(was_finished, tf.gather(lengths, parents, batch_dims=1), t + 1)
        finished = tf.logical_or(was_finished, tf.equal(new_tokens, EOS_ID))
        sequences = tf.concat([tf.gather(sequences, parents, batch_dims=1),
                               new_tokens[:, :, None]], axis=2)
        flat_parents = tf.reshape(parents + tf.range(batch)[:, None] * beam_size, [-1])
        states = tf.nest.map_structure(lambda s: tf.gather(s, flat_parents), states)
        return t + 1, tf.reshape(new_tokens, [-1]), states, log_probs, finished, lengths, sequences

    loop_vars = (tf.constant(0), tokens, states, log_probs, finished, lengths, sequences)
    invariants = tf.nest.map_structure(lambda v: tf.TensorShape(v.shape), loop_vars)
    invariants = invariants[:-1] + (tf.TensorShape([None, beam_size, None]),)
    _, _, _, log_probs, finished, lengths, sequences = tf.while_loop(
        not_done, step, loop_vars, shape_invariants=invariants)

    ranking = log_probs / length_penalty(lengths, alpha)
    _, order = tf.math.top_k(ranking, k=n_best)  # (batch, n_best)
    sequences = tf.gather(sequences, order, batch_dims=1)
    lengths = tf.gather(lengths, order, batch_dims=1) - 1  # without EOS
    ids = tf.where(tf.equal(sequences, EOS_ID), PAD_ID, sequences)
    return ids, lengths, tf.gather(log_probs, order, batch_dims=1)


def _only(token_id, vocab):
    """Log-probabilities that allow only ``token_id``: (vocab,) of 0 and -inf."""
    return tf.where(tf.equal(tf.range(vocab), token_id), 0.0, float("-inf"))
