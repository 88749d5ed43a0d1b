"""Batched beam search in TensorFlow ops (a ``tf.while_loop``); beam size 1 is greedy search.

The same graph serves ``translit translate``, dev-set evaluation and the exported SavedModel.
"""

import tensorflow as tf

from translit.tokenizers import BOS_ID, EOS_ID, PAD_ID


def length_penalty(lengths, alpha):
    """GNMT length penalty ((5 + length) / 6) ** alpha; alpha 0 scores by plain log-probability."""
    return tf.pow((5.0 + tf.cast(lengths, tf.float32)) / 6.0, alpha)


def coverage_penalty(coverage, source_mask):
    """GNMT coverage penalty sum_i log(min(coverage_i, 1)) over the real source positions.

    Args: coverage (batch, beam, src_time) attention summed over the target steps;
      source_mask (batch, src_time) bool.
    Returns: (batch, beam), 0 when every source token got a total attention of at least 1.
    """
    covered = tf.math.log(tf.clip_by_value(coverage, 1e-6, 1.0))
    return tf.reduce_sum(tf.where(source_mask[:, None, :], covered, 0.0), axis=-1)


def beam_search(model, source_ids, beam_size=5, alpha=0.6, beta=0.0, max_length_ratio=2.0,
                max_length_offset=10, n_best=1, return_attention=False):
    """Finds the best target sequences for a batch of sources.

    Args:
      model: a :class:`translit.models.Seq2Seq` or an ensemble: ``has_attention``,
        ``encode(source_ids) -> (context, state)`` and
        ``decode_step(token_ids, state, context) -> (logits, state, weights or None)``.
      source_ids: (batch, src_time) int32, right-padded with 0.
      beam_size: hypotheses kept per sentence (1 = greedy).
      alpha: GNMT length penalty exponent used to rank hypotheses.
      beta: GNMT coverage penalty weight (attention models only; 0 = off).
      max_length_ratio, max_length_offset: a hypothesis ends (EOS is forced) after
        ``ceil(ratio * source_length) + offset`` tokens.
      n_best: hypotheses returned per sentence (<= beam_size), best first.
      return_attention: also return each hypothesis's attention weights.
    Returns:
      ids (batch, n_best, time) int32 without BOS, EOS and what follows replaced by padding;
      lengths (batch, n_best) int32, tokens before EOS; scores (batch, n_best) float32,
      log-probabilities of the hypotheses (EOS included); with ``return_attention``,
      attention (batch, n_best, time, src_time), the row of step t for output token t.
    """
    if (beta or return_attention) and not model.has_attention:
        raise ValueError("coverage penalty and attention weights need a model with attention")

    def empty():
        results = (tf.zeros([0, n_best, 0], tf.int32), tf.zeros([0, n_best], tf.int32),
                   tf.zeros([0, n_best], tf.float32))
        return results + ((tf.zeros([0, n_best, 0, 0]),) if return_attention else ())

    def search():
        return _beam_search(model, source_ids, beam_size, alpha, beta, max_length_ratio,
                            max_length_offset, n_best, return_attention)

    return tf.cond(tf.shape(source_ids)[0] > 0, search, empty)  # the RNNs reject empty batches


def _beam_search(model, source_ids, beam_size, alpha, beta, max_length_ratio, max_length_offset,
                 n_best, return_attention):
    batch, src_time = tf.shape(source_ids)[0], tf.shape(source_ids)[1]
    source_mask = tf.not_equal(source_ids, PAD_ID)
    source_lengths = tf.reduce_sum(tf.cast(source_mask, tf.float32), axis=1)
    max_lengths = tf.cast(tf.math.ceil(max_length_ratio * source_lengths), tf.int32)
    max_lengths += max_length_offset + 1  # (batch,), EOS included
    limit = tf.reduce_max(max_lengths)

    context, state = tf.nest.map_structure(lambda s: tf.repeat(s, beam_size, axis=0),
                                           model.encode(source_ids))
    first_beam_only = tf.concat([[0.0], tf.fill([beam_size - 1], float("-inf"))], axis=0)
    beams = {  # per hypothesis, (batch, beam, ...)
        "log_probs": tf.tile(first_beam_only[tf.newaxis], [batch, 1]),
        "finished": tf.zeros([batch, beam_size], tf.bool),
        "lengths": tf.zeros([batch, beam_size], tf.int32),
        "sequences": tf.zeros([batch, beam_size, 0], tf.int32),
    }
    if beta:
        beams["coverage"] = tf.zeros([batch, beam_size, src_time])
    if return_attention:
        beams["attention"] = tf.zeros([batch, beam_size, 0, src_time])
    tokens = tf.fill([batch * beam_size], BOS_ID)

    def not_done(t, tokens, state, beams):
        return tf.logical_and(t < limit, tf.logical_not(tf.reduce_all(beams["finished"])))

    def step(t, tokens, state, beams):
        logits, state, weights = model.decode_step(tokens, state, context)
        finished, lengths = beams["finished"], beams["lengths"]
        logits = tf.reshape(tf.cast(logits, tf.float32), [batch, beam_size, -1])
        # The sentence's best continuations are among each hypothesis's best k tokens (a
        # hypothesis ranks all its tokens with one length divisor), so the vocabulary is read
        # by one log-sum-exp and one top-k; all that follows is (batch, beam, k).
        k = tf.minimum(beam_size, tf.shape(logits)[-1])
        normalizer = tf.reduce_logsumexp(logits, axis=-1, keepdims=True)  # (batch, beam, 1)
        top_logits, top_tokens = tf.math.top_k(logits, k=k)  # (batch, beam, k)
        step_log_probs = top_logits - normalizer
        # At the length limit EOS is forced; a finished hypothesis continues with padding;
        # both at no cost, as the one continuation.
        at_limit = (t + 1 >= max_lengths)[:, None, None]
        forced = tf.logical_or(at_limit, finished[:, :, None])  # (batch, beam, 1)
        only_first = tf.where(tf.equal(tf.range(k), 0), 0.0, float("-inf"))  # (k,)
        step_log_probs = tf.where(forced, only_first, step_log_probs)
        top_tokens = tf.where(finished[:, :, None], PAD_ID,
                              tf.where(at_limit, EOS_ID, top_tokens))
        candidates = beams["log_probs"][:, :, None] + step_log_probs  # (batch, beam, k)
        candidate_lengths = tf.where(finished, lengths, t + 1)[:, :, None]
        ranking = candidates / length_penalty(candidate_lengths, alpha)
        if weights is not None:  # (batch, beam, src_time); nothing attends after EOS
            weights = tf.where(finished[:, :, None], 0.0,
                               tf.reshape(tf.cast(weights, tf.float32), [batch, beam_size, -1]))
        if beta:
            coverage = beams["coverage"] + weights
            ranking += beta * coverage_penalty(coverage, source_mask)[:, :, None]
        _, best = tf.math.top_k(tf.reshape(ranking, [batch, -1]), k=beam_size)  # (batch, beam)
        parents = best // k
        new_tokens = tf.gather(tf.reshape(top_tokens, [batch, -1]), best, batch_dims=1)

        def gather(values):  # (batch, beam, ...) -> the chosen parents' values
            return tf.gather(values, parents, batch_dims=1)

        was_finished = gather(finished)
        new = {"log_probs": tf.gather(tf.reshape(candidates, [batch, -1]), best, batch_dims=1),
               "finished": tf.logical_or(was_finished, tf.equal(new_tokens, EOS_ID)),
               "lengths": tf.where(was_finished, gather(lengths), t + 1),
               "sequences": tf.concat([gather(beams["sequences"]), new_tokens[:, :, None]], 2)}
        if beta:
            new["coverage"] = gather(coverage)
        if return_attention:
            new["attention"] = tf.concat([gather(beams["attention"]), gather(weights)[:, :, None]],
                                         axis=2)
        flat_parents = tf.reshape(parents + tf.range(batch)[:, None] * beam_size, [-1])
        state = tf.nest.map_structure(lambda s: tf.gather(s, flat_parents), state)
        return t + 1, tf.reshape(new_tokens, [-1]), state, new

    loop_vars = (tf.constant(0), tokens, state, beams)
    # Any batch size (a traced call may know it, the loop body does not).
    invariants = tf.nest.map_structure(
        lambda v: tf.TensorShape([None] + v.shape[1:] if v.shape.rank else []), loop_vars)
    invariants[3]["sequences"] = tf.TensorShape([None, beam_size, None])
    if return_attention:
        invariants[3]["attention"] = tf.TensorShape([None, beam_size, None, None])
    _, _, _, beams = tf.while_loop(not_done, step, loop_vars, shape_invariants=invariants)

    ranking = beams["log_probs"] / length_penalty(beams["lengths"], alpha)
    if beta:
        ranking += beta * coverage_penalty(beams["coverage"], source_mask)
    _, order = tf.math.top_k(ranking, k=n_best)  # (batch, n_best)
    best = {name: tf.gather(values, order, batch_dims=1) for name, values in beams.items()}
    ids = tf.where(tf.equal(best["sequences"], EOS_ID), PAD_ID, best["sequences"])
    results = ids, best["lengths"] - 1, best["log_probs"]  # lengths without EOS
    return results + ((best["attention"],) if return_attention else ())
