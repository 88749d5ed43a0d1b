"""The loss: token cross-entropy over non-padding labels, shared by training, dev evaluation and
forced scoring (``translit score --model``)."""

from __future__ import annotations

import tensorflow as tf

from translit.data.special_tokens import PAD_ID


def masked_cross_entropy(logits, labels, label_smoothing: float = 0.0, axis=None):
    """Token cross-entropy summed over non-padding labels.

    Args:
      logits: (..., vocab); labels: (...) int32, PAD_ID = padding.
      label_smoothing: weight of the uniform distribution mixed into the one-hot target.
      axis: the axes summed over (None: all, a scalar loss; 1 on (batch, time): per sentence).
    Returns:
      (summed loss, number of non-padding tokens), float32, reduced over ``axis``.
    """
    logits = tf.cast(logits, tf.float32)
    mask = tf.cast(tf.not_equal(labels, PAD_ID), tf.float32)  # (...)
    if label_smoothing:  # the smoothed target (1 - s) one-hot + s / vocab, in one fused kernel
        vocab = tf.shape(logits)[-1]
        off = label_smoothing / tf.cast(vocab, tf.float32)
        target = tf.one_hot(labels, vocab, 1.0 - label_smoothing + off, off)  # (..., vocab)
        loss = tf.nn.softmax_cross_entropy_with_logits(labels=target, logits=logits)
    else:
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return tf.reduce_sum(loss * mask, axis=axis), tf.reduce_sum(mask, axis=axis)


def token_loss(model, source, target_in, target_out, label_smoothing: float = 0.0,
               training: bool = False, only_tokens: bool = True):
    """Summed cross-entropy of a teacher-forced batch and its number of target tokens.

    Args: source (batch, src_time), target_in and target_out (batch, tgt_time).
      only_tokens: compute logits at the target tokens only, not at the padding (XLA, which
        wants static shapes, masks the loss over every position instead).
    """
    keep = tf.not_equal(target_out, PAD_ID) if only_tokens else None
    labels = tf.boolean_mask(target_out, keep) if only_tokens else target_out
    logits = model((source, target_in), training=training, keep=keep)  # (kept, vocab)
    return masked_cross_entropy(logits, labels, label_smoothing)
