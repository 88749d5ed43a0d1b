"""Attention over the encoder outputs: Luong's dot and general scores, Bahdanau's additive one.

The attention reads the decoder's top-layer output h_t (Luong et al. 2015): scores against every
source position, softmax over the real (unmasked) positions, context c_t = the weighted sum of
encoder outputs, attentional vector tanh(W_c [c_t; h_t]), or W_c [c_t; h_t] without the tanh (as
OpenNMT-tf builds it with ``attention_layer_activation=None``). With input feeding, that vector
is also concatenated to the next step's input embedding.
"""

import keras
import tensorflow as tf

ATTENTION_TYPES = ("none", "dot", "general", "bahdanau")
ACTIVATIONS = ("tanh", "none")  # of the attentional vector


class Attention(keras.layers.Layer):
    """Scores, weights and the attentional vector.

    Args:
      kind: ``dot`` (h·m), ``general`` (h·W m) or ``bahdanau`` (v·tanh(W m + U h)).
      units: the decoder's size (the query's and the attentional vector's).
      activation: of the attentional vector W_c [c_t; h_t]: ``tanh`` (Luong) or ``none``.
    """

    def __init__(self, kind: str, units: int, activation: str = "tanh", **kwargs):
        super().__init__(**kwargs)
        if kind not in ATTENTION_TYPES[1:]:
            raise ValueError(f"unknown attention {kind!r}, expected one of {ATTENTION_TYPES}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown attention activation {activation!r}, expected one of "
                             f"{ACTIVATIONS}")
        self.kind = kind
        self.units = units
        self.activation = activation
        self.memory_layer = keras.layers.Dense(units, use_bias=False, name="memory_layer")
        if kind == "bahdanau":
            self.query_layer = keras.layers.Dense(units, use_bias=False, name="query_layer")
            self.score_vector = keras.layers.Dense(1, use_bias=False, name="score_vector")
        self.combine = keras.layers.Dense(
            units, activation=None if activation == "none" else activation, use_bias=False,
            name="attention_layer")

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "units": self.units,
                "activation": self.activation}

    def build(self, *args, **kwargs):
        """Sublayers build on first use (the memory's size is known then)."""
        self.built = True

    def prepare(self, memory, mask):
        """Precomputes what every decoder step reuses.

        Args: memory (batch, src_time, memory_dim) encoder outputs; mask (batch, src_time) bool.
        Returns: a context dict {"memory", "keys" (batch, src_time, units), "mask"}, and once
        the attention layer is built "values" (batch, src_time, units): the memory through the
        layer's context half, W_c [c_t; h_t] = sum_j a_tj (W_cc m_j) + W_ch h_t.
        """
        if self.kind == "dot" and memory.shape[-1] == self.units:
            keys = memory
        else:  # general's W, Bahdanau's W, or dot over a memory of another size
            keys = self.memory_layer(memory)
        context = {"memory": memory, "keys": keys, "mask": mask}
        if self.combine.built:  # it builds on the first call, under this layer's name
            kernel = tf.cast(self.combine.kernel[:memory.shape[-1]], memory.dtype)
            context["values"] = tf.tensordot(memory, kernel, [[2], [0]])
        return context

    def call(self, queries, context):
        """Args: queries (batch, tgt_time, units); context from :meth:`prepare`.

        Returns: attentional vectors (batch, tgt_time, units) and weights (batch, tgt_time, src).
        """
        keys = tf.cast(context["keys"], queries.dtype)
        if self.kind == "bahdanau":
            hidden = tf.tanh(keys[:, None] + self.query_layer(queries)[:, :, None])
            scores = tf.squeeze(self.score_vector(hidden), -1)  # (batch, tgt, src)
        else:
            scores = tf.matmul(queries, keys, transpose_b=True)  # (batch, tgt, src)
        scores = tf.cast(scores, tf.float32)
        scores = tf.where(context["mask"][:, None, :], scores, -1e9)
        weights = tf.nn.softmax(scores, axis=-1)
        if "values" not in context:  # the first call builds the attention layer
            memory = tf.cast(context["memory"], queries.dtype)
            contexts = tf.matmul(tf.cast(weights, queries.dtype), memory)  # (batch, tgt, memory)
            return self.combine(tf.concat([contexts, queries], axis=-1)), weights
        kernel = tf.cast(self.combine.kernel[-self.units:], queries.dtype)  # W_ch
        values = tf.cast(context["values"], queries.dtype)
        combined = (tf.matmul(tf.cast(weights, queries.dtype), values)  # (batch, tgt, units)
                    + tf.tensordot(queries, kernel, [[2], [0]]))
        return (combined if self.activation == "none" else tf.tanh(combined)), weights
