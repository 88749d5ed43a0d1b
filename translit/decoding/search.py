"""Batched beam search in TensorFlow ops (a ``tf.while_loop``); beam size 1 is greedy search.

The same graph serves ``translit translate``, dev-set evaluation and the exported SavedModel.
"""

import math

import tensorflow as tf

from translit.data.special_tokens import BOS_ID, EOS_ID, PAD_ID


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


def top_k(values, k):
    """``tf.math.top_k`` over a long last axis, in fewer comparisons.

    The k largest values lie in the k chunks (of about sqrt(length) values) whose maxima are
    largest, so one pass takes the chunks' maxima and top-k searches k chunks only. Equal
    values may come out in a different order than ``tf.math.top_k``'s.

    Args: values (..., length) with a static length; k a Python int.
    Returns: values and indices (..., k), largest first.
    """
    length = values.shape[-1]
    chunk = math.isqrt(length)
    if chunk < 4 * k:  # short rows: the plain search is as fast
        return tf.math.top_k(values, k=k)
    chunks = -(-length // chunk)
    padding = [[0, 0]] * (values.shape.rank - 1) + [[0, chunks * chunk - length]]
    values = tf.pad(values, padding, constant_values=float("-inf"))
    values = tf.reshape(values, tf.concat([tf.shape(values)[:-1], [chunks, chunk]], 0))
    _, best_chunks = tf.math.top_k(tf.reduce_max(values, axis=-1), k=k)  # (..., k)
    batch_dims = values.shape.rank - 2
    candidates = tf.gather(values, best_chunks, batch_dims=batch_dims)  # (..., k, chunk)
    flat_shape = tf.concat([tf.shape(best_chunks)[:-1], [k * chunk]], 0)
    top_values, positions = tf.math.top_k(tf.reshape(candidates, flat_shape), k=k)
    indices = best_chunks[..., None] * chunk + tf.range(chunk)  # (..., k, chunk)
    return top_values, tf.gather(tf.reshape(indices, flat_shape), positions,
                                 batch_dims=batch_dims)


def beam_search(model, source_ids, beam_size=5, alpha=0.6, beta=0.0, max_length_ratio=2.0,
                max_length_offset=10, n_best=1, return_attention=False):
    """Finds the best target sequences for a batch of sources.

    A sentence's search ends once it is settled: no live hypothesis (without EOS) can still rank
    among its n-best, by an upper bound on its final ranking; its rows then leave the decoder.
    The result is the one of a search that runs every hypothesis to EOS, in fewer steps.

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

    def settled(beams):
        """(batch,) bool: no live hypothesis can still enter the sentence's n-best.

        A live hypothesis's log-probability can only fall and (coverage penalty aside, which is
        at most 0) it is divided by a length penalty at least that of its next or of its last
        possible length, which bounds its final ranking from above.
        """
        finished = beams["finished"]
        nth_best = tf.math.top_k(tf.where(finished, beams["ranking"], float("-inf")),
                                 k=n_best).values[:, -1]
        largest_penalty = tf.maximum(length_penalty(beams["lengths"] + 1, alpha),
                                     length_penalty(max_lengths, alpha)[:, None])
        live_bound = tf.where(finished, float("-inf"), beams["log_probs"] / largest_penalty)
        return nth_best >= tf.reduce_max(live_bound, axis=-1)

    context, state = model.encode(source_ids)  # a context row serves the sentence's beam
    state = tf.nest.map_structure(lambda s: tf.repeat(s, beam_size, axis=0), state)
    first_beam_only = tf.concat([[0.0], tf.fill([beam_size - 1], float("-inf"))], axis=0)
    beams = {  # per hypothesis, (batch, beam, ...)
        "log_probs": tf.tile(first_beam_only[tf.newaxis], [batch, 1]),
        "ranking": tf.tile(first_beam_only[tf.newaxis], [batch, 1]),  # what orders hypotheses
        "finished": tf.zeros([batch, beam_size], tf.bool),
        "lengths": tf.zeros([batch, beam_size], tf.int32),
        "sequences": tf.zeros([batch, beam_size, 0], tf.int32),
        "settled": tf.zeros([batch], tf.bool),
    }
    if beta:
        beams["coverage"] = tf.zeros([batch, beam_size, src_time])
    if return_attention:
        beams["attention"] = tf.zeros([batch, beam_size, 0, src_time])
    tokens = tf.fill([batch * beam_size], BOS_ID)
    # The decoder runs for the sentences still searching ("alive"), in batch order: a sentence's
    # rows (its beam's hypotheses, consecutive) and its context row leave it once the sentence
    # is settled; its hypotheses stay as they are.
    alive = tf.range(batch)

    def scatter(alive, values, default):  # (alive, beam, ...) -> (batch, beam, ...)
        return tf.tensor_scatter_nd_update(default, alive[:, None], values)

    def not_done(t, alive, tokens, state, context, beams):
        return tf.logical_and(t < limit, tf.size(alive) > 0)

    def step(t, alive, tokens, state, context, beams):
        logits, state, weights = model.decode_step(tokens, state, context)  # (alive * beam, ...)
        finished, lengths = beams["finished"], beams["lengths"]
        stopped = tf.logical_or(finished, beams["settled"][:, None])  # (batch, beam)
        vocab = logits.shape[-1]
        logits = tf.reshape(tf.cast(logits, tf.float32), [-1, beam_size, vocab])
        # The sentence's best continuations are among each hypothesis's best k tokens (a
        # hypothesis ranks all its tokens with one length divisor), so the vocabulary is read
        # by one log-sum-exp and one top-k; all that follows is (batch, beam, k).
        k = min(beam_size, vocab)
        normalizer = tf.reduce_logsumexp(logits, axis=-1, keepdims=True)  # (alive, beam, 1)
        top_logits, top_tokens = top_k(logits, k)  # (alive, beam, k)
        only_first = tf.where(tf.equal(tf.range(k), 0), 0.0, float("-inf"))  # (k,)
        step_log_probs = scatter(alive, top_logits - normalizer,
                                 tf.broadcast_to(only_first, [batch, beam_size, k]))
        top_tokens = scatter(alive, top_tokens, tf.fill([batch, beam_size, k], PAD_ID))
        # At the length limit EOS is forced; a finished or settled hypothesis continues with
        # padding; both at no cost, as the one continuation.
        at_limit = (t + 1 >= max_lengths)[:, None, None]
        forced = tf.logical_or(at_limit, stopped[:, :, None])  # (batch, beam, 1)
        step_log_probs = tf.where(forced, only_first, step_log_probs)
        top_tokens = tf.where(stopped[:, :, None], PAD_ID,
                              tf.where(at_limit, EOS_ID, top_tokens))
        candidates = beams["log_probs"][:, :, None] + step_log_probs  # (batch, beam, k)
        candidate_lengths = tf.where(stopped, lengths, t + 1)[:, :, None]
        candidate_ranking = candidates / length_penalty(candidate_lengths, alpha)
        if weights is not None:  # (batch, beam, src_time); nothing attends after EOS
            weights = tf.reshape(tf.cast(weights, tf.float32), [-1, beam_size, src_time])
            weights = tf.where(stopped[:, :, None], 0.0,
                               scatter(alive, weights, tf.zeros([batch, beam_size, src_time])))
        if beta:
            coverage = beams["coverage"] + weights
            candidate_ranking += beta * coverage_penalty(coverage, source_mask)[:, :, None]
        ranking, best = tf.math.top_k(tf.reshape(candidate_ranking, [batch, -1]), k=beam_size)
        parents = best // k
        new_tokens = tf.gather(tf.reshape(top_tokens, [batch, -1]), best, batch_dims=1)

        def gather(values):  # (batch, beam, ...) -> the chosen parents' values
            return tf.gather(values, parents, batch_dims=1)

        new = {"log_probs": tf.gather(tf.reshape(candidates, [batch, -1]), best, batch_dims=1),
               "ranking": ranking,
               "finished": tf.logical_or(gather(finished), tf.equal(new_tokens, EOS_ID)),
               "lengths": tf.where(gather(stopped), gather(lengths), t + 1),
               "sequences": tf.concat([gather(beams["sequences"]), new_tokens[:, :, None]], 2)}
        if beta:
            new["coverage"] = gather(coverage)
        if return_attention:
            new["attention"] = tf.concat([gather(beams["attention"]), gather(weights)[:, :, None]],
                                         axis=2)
        new["settled"] = tf.logical_or(beams["settled"], settled(new))
        # The next step's rows: the chosen parents' states, for the sentences still searching.
        still = tf.cast(tf.where(~tf.gather(new["settled"], alive))[:, 0], tf.int32)
        local_parents = tf.gather(tf.gather(parents, alive), still)  # (still alive, beam)
        state_rows = tf.reshape(local_parents + still[:, None] * beam_size, [-1])
        state = tf.nest.map_structure(lambda s: tf.gather(s, state_rows), state)
        context = tf.nest.map_structure(lambda s: tf.gather(s, still), context)
        alive = tf.gather(alive, still)
        tokens = tf.reshape(tf.gather(new_tokens, alive), [-1])
        return t + 1, alive, tokens, state, context, new

    loop_vars = (tf.constant(0), alive, tokens, state, context, beams)
    # Any batch size (a traced call may know it, the loop body does not).
    invariants = tf.nest.map_structure(
        lambda v: tf.TensorShape([None] + v.shape[1:] if v.shape.rank else []), loop_vars)
    invariants[5]["sequences"] = tf.TensorShape([None, beam_size, None])
    if return_attention:
        invariants[5]["attention"] = tf.TensorShape([None, beam_size, None, None])
    *_, beams = tf.while_loop(not_done, step, loop_vars, shape_invariants=invariants)

    # The search stops once every sentence is settled: its live hypotheses (no EOS) are out.
    final = tf.where(beams["finished"], beams["ranking"], float("-inf"))
    _, order = tf.math.top_k(final, k=n_best)  # (batch, n_best)
    best = {name: tf.gather(beams[name], order, batch_dims=1)
            for name in ("sequences", "lengths", "log_probs", "attention") if name in beams}
    ids = tf.where(tf.equal(best["sequences"], EOS_ID), PAD_ID, best["sequences"])
    results = ids, best["lengths"] - 1, best["log_probs"]  # lengths without EOS
    return results + ((best["attention"],) if return_attention else ())


def beam_search_one(model, source_ids, beam_size=5, alpha=0.6, beta=0.0, max_length_ratio=2.0,
                    max_length_offset=10):
    """:func:`beam_search` of one sentence in fixed-size tensors, for LiteRT's builtin ops.

    The same hypotheses, scores and stopping rule as :func:`beam_search` with
    ``n_best=beam_size``; the sequences are kept in a buffer as long as the longest target the
    source's padded length allows, and the encoder runs step by step (``encode_one``).

    Args:
      model: a :class:`translit.models.Seq2Seq`.
      source_ids: (1, src_time) int32 with a static src_time, pieces then EOS, right-padded.
    Returns:
      ids (beam, max_time) int32, EOS and what follows as padding; lengths (beam,) int32,
      tokens before EOS; scores (beam,) float32 log-probabilities; best first.
    """
    src_time = source_ids.shape[1]
    max_time = math.ceil(max_length_ratio * src_time) + max_length_offset + 1
    source_mask = tf.not_equal(source_ids, PAD_ID)  # (1, src_time)
    source_length = tf.reduce_sum(tf.cast(source_mask, tf.float32))
    limit = tf.cast(tf.math.ceil(max_length_ratio * source_length), tf.int32)
    limit += max_length_offset + 1  # EOS included
    context, state = model.encode_one(source_ids)  # one context row for the beam
    state = tf.nest.map_structure(lambda s: tf.repeat(s, beam_size, axis=0), state)
    first_beam_only = tf.concat([[0.0], tf.fill([beam_size - 1], float("-inf"))], axis=0)
    beams = {"log_probs": first_beam_only, "ranking": first_beam_only,  # (beam,) each
             "finished": tf.zeros([beam_size], tf.bool),
             "lengths": tf.zeros([beam_size], tf.int32),
             "sequences": tf.zeros([beam_size, max_time], tf.int32)}
    if beta:
        beams["coverage"] = tf.zeros([beam_size, src_time])
    positions = tf.range(max_time)[None]  # (1, max_time)

    def settled(beams):  # as in beam_search: no live hypothesis can still enter the beam
        finished = beams["finished"]
        worst_finished = tf.reduce_min(tf.where(finished, beams["ranking"], float("inf")))
        worst_finished = tf.where(tf.reduce_all(finished), worst_finished, float("-inf"))
        largest_penalty = tf.maximum(length_penalty(beams["lengths"] + 1, alpha),
                                     length_penalty(limit, alpha))
        live_bound = tf.where(finished, float("-inf"), beams["log_probs"] / largest_penalty)
        return worst_finished >= tf.reduce_max(live_bound)

    def step(t, done, tokens, state, beams):
        logits, state, weights = model.decode_step(tokens, state, context)  # (beam, vocab)
        finished, lengths = beams["finished"], beams["lengths"]
        k = min(beam_size, logits.shape[-1])
        normalizer = tf.reduce_logsumexp(logits, axis=-1, keepdims=True)  # (beam, 1)
        top_logits, top_tokens = top_k(logits, k)  # (beam, k)
        only_first = tf.where(tf.equal(tf.range(k), 0), 0.0, float("-inf"))  # (k,)
        at_limit = t + 1 >= limit
        forced = tf.logical_or(at_limit, finished[:, None])  # (beam, 1)
        step_log_probs = tf.where(forced, only_first, top_logits - normalizer)
        top_tokens = tf.where(finished[:, None], PAD_ID,
                              tf.where(at_limit, EOS_ID, top_tokens))
        candidates = beams["log_probs"][:, None] + step_log_probs  # (beam, k)
        candidate_lengths = tf.where(finished, lengths, t + 1)[:, None]
        candidate_ranking = candidates / length_penalty(candidate_lengths, alpha)
        if beta:
            weights = tf.where(finished[:, None], 0.0, weights)  # (beam, src_time)
            coverage = beams["coverage"] + weights
            candidate_ranking += beta * coverage_penalty(coverage[None], source_mask)[0][:, None]
        ranking, best = tf.math.top_k(tf.reshape(candidate_ranking, [-1]), k=beam_size)
        parents = best // k
        new_tokens = tf.gather(tf.reshape(top_tokens, [-1]), best)  # (beam,)
        sequences = tf.gather(beams["sequences"], parents)
        new = {"log_probs": tf.gather(tf.reshape(candidates, [-1]), best), "ranking": ranking,
               "finished": tf.logical_or(tf.gather(finished, parents),
                                         tf.equal(new_tokens, EOS_ID)),
               "lengths": tf.where(tf.gather(finished, parents), tf.gather(lengths, parents),
                                   t + 1),
               "sequences": tf.where(tf.equal(positions, t), new_tokens[:, None], sequences)}
        if beta:
            new["coverage"] = tf.gather(coverage, parents)
        state = tf.nest.map_structure(lambda s: tf.gather(s, parents), state)
        return t + 1, settled(new), new_tokens, state, new

    loop_vars = (tf.constant(0), tf.constant(False), tf.fill([beam_size], BOS_ID), state, beams)
    *_, beams = tf.while_loop(lambda t, done, *_: tf.logical_and(t < limit, ~done), step,
                              loop_vars)
    final = tf.where(beams["finished"], beams["ranking"], float("-inf"))
    _, order = tf.math.top_k(final, k=beam_size)
    sequences = tf.gather(beams["sequences"], order)
    ids = tf.where(tf.equal(sequences, EOS_ID), PAD_ID, sequences)
    return ids, tf.gather(beams["lengths"], order) - 1, tf.gather(beams["log_probs"], order)
