"""Ensemble decoding: several models' next-token distributions averaged at every step."""

import math

import tensorflow as tf


class Ensemble:
    """Search-compatible ensemble of models sharing one target vocabulary.

    The next-token distribution is the mean of the members' probabilities (log of the mean,
    computed with logsumexp); attention weights, where members attend, are averaged.
    """

    def __init__(self, models):
        self.models = list(models)
        self.has_attention = any(m.has_attention for m in self.models)

    def encode(self, source_ids):
        """Returns ((context per member), (state per member))."""
        encoded = [m.encode(source_ids) for m in self.models]
        return tuple(c for c, _ in encoded), tuple(s for _, s in encoded)

    def decode_step(self, token_ids, state, context):
        """Returns log-probabilities (batch, vocab), the members' states and the mean weights."""
        outputs = [m.decode_step(token_ids, s, c)
                   for m, s, c in zip(self.models, state, context)]
        log_probs = tf.stack([tf.nn.log_softmax(tf.cast(logits, tf.float32))
                              for logits, _, _ in outputs])  # (members, batch, vocab)
        mean = tf.reduce_logsumexp(log_probs, axis=0) - math.log(len(self.models))
        weights = [tf.cast(w, tf.float32) for _, _, w in outputs if w is not None]
        return (mean, tuple(s for _, s, _ in outputs),
                tf.add_n(weights) / len(weights) if weights else None)
