"""The stacked recurrent decoder: teacher-forced for training, one step at a time for search."""

import keras
import tensorflow as tf

from translit.models.attention import Attention
from translit.models.cells import cell_step, recurrent_layer, run_layer


class OutputProjection(keras.layers.Layer):
    """Logits over the target vocabulary: a kernel and a bias, or with weight tying the target
    embedding matrix transposed (Press & Wolf 2017) and a bias."""

    def __init__(self, vocab_size, tied: bool, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.tied = tied

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "tied": self.tied}

    def build(self, input_shape):
        if not self.tied:
            self.kernel = self.add_weight(shape=(input_shape[-1], self.vocab_size),
                                          initializer="glorot_uniform", name="kernel")
        self.bias = self.add_weight(shape=(self.vocab_size,), initializer="zeros", name="bias")

    def call(self, x, embeddings):
        """Args: x (..., features); embeddings (vocab, features). Returns (..., vocab)."""
        # tensordot flattens (..., features) to 2-D: one matrix product, and one for the kernel's
        # gradient, where a broadcast batched matmul would sum a gradient per sentence.
        if self.tied:
            return tf.tensordot(x, tf.cast(embeddings, x.dtype), [[-1], [1]]) + self.bias
        return tf.tensordot(x, self.kernel, [[-1], [0]]) + self.bias


class StackedDecoder(keras.layers.Layer):
    """Embedding, ``num_layers`` recurrent layers started from the encoder's states, optional
    attention, output projection.

    Without input feeding, ``call`` runs whole layers (the cuDNN path) and attends for all
    target positions at once; with input feeding it loops over time with the cells, like
    ``step``.

    Args:
      attention: ``none``, ``dot``, ``general`` or ``bahdanau``.
      attention_activation: of the attentional vector, ``tanh`` or ``none``.
      input_feeding: feed the previous attentional vector with each input embedding.
      tie_embeddings: the output projection reuses the target embeddings.
      embedding_dropout: of the embeddings; None: ``dropout`` (which drops each layer's output).
      output_dropout: of the outputs (the attentional vectors with attention) before the
        output projection; a fed vector is the one before it.
    """

    def __init__(self, vocab_size, embedding_dim, units, num_layers, dropout, cell="lstm",
                 attention="none", attention_activation="tanh", input_feeding=False,
                 residual=False, tie_embeddings=False, embedding_dropout=None,
                 output_dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.options = dict(vocab_size=vocab_size, embedding_dim=embedding_dim, units=units,
                            num_layers=num_layers, dropout=dropout, cell=cell,
                            attention=attention, attention_activation=attention_activation,
                            input_feeding=input_feeding, residual=residual,
                            tie_embeddings=tie_embeddings, embedding_dropout=embedding_dropout,
                            output_dropout=output_dropout)
        self.units = units
        self.residual = residual
        self.input_feeding = input_feeding and attention != "none"
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")
        self.dropout = keras.layers.Dropout(dropout)
        self.embedding_dropout = keras.layers.Dropout(
            dropout if embedding_dropout is None else embedding_dropout)
        self.output_dropout = keras.layers.Dropout(output_dropout)
        self.rnns = [recurrent_layer(cell, units, f"{cell}_{i}") for i in range(num_layers)]
        self.attention = None if attention == "none" else Attention(
            attention, units, attention_activation, name="attention")
        self.pre_projection = (keras.layers.Dense(embedding_dim, name="pre_projection")
                               if tie_embeddings and units != embedding_dim else None)
        self.projection = OutputProjection(vocab_size, tie_embeddings, name="projection")

    def get_config(self):
        return {**super().get_config(), **self.options}

    def build(self, *args, **kwargs):
        """Sublayers build on the first call (their input sizes depend on the options)."""
        self.built = True

    # -- state ---------------------------------------------------------------------------------

    def prepare(self, memory, mask):
        """The encoder outputs that attention reads: a dict, empty without attention."""
        return self.attention.prepare(memory, mask) if self.attention else {}

    def initial_state(self, encoder_states):
        """The decoder's state: the encoder's final states, and the attentional vector fed to
        the first step (zeros) when input feeding."""
        state = {"rnn": encoder_states}
        if self.input_feeding:
            batch = tf.shape(encoder_states[0][0])[0]
            state["feed"] = tf.zeros([batch, self.units], encoder_states[0][0].dtype)
        return state

    # -- teacher forcing -----------------------------------------------------------------------

    def call(self, target_ids, state, context, training=False, keep=None):
        """Args: target_ids (batch, tgt_time), BOS first; state from :meth:`initial_state`;
        context from :meth:`prepare`; keep: optional (batch, tgt_time) bool, the positions
        that need logits (training asks for the target tokens only, not the padding).

        Returns: logits (batch, tgt_time, vocab), or (kept positions, vocab) with ``keep``, and
        attention weights (batch, tgt_time, src_time), or None without attention.
        """
        x = self.embedding_dropout(self.embedding(target_ids), training=training)
        if self.input_feeding:
            outputs, weights = self._loop(x, state, context, training)
        else:
            for i, (rnn, layer_state) in enumerate(zip(self.rnns, state["rnn"])):
                y, _ = run_layer(rnn, x, initial_state=layer_state, training=training)
                y = self.dropout(y, training=training)  # (batch, tgt_time, units)
                x = x + y if self.residual and i > 0 else y
            outputs, weights = self.attention(x, context) if self.attention else (x, None)
        outputs = self.output_dropout(outputs, training=training)  # (batch, tgt_time, units)
        if keep is not None:
            outputs = tf.boolean_mask(outputs, keep)  # (kept positions, units)
        return self._logits(outputs), weights

    def _loop(self, embedded, state, context, training):
        """Input feeding over time. Args: embedded (batch, tgt_time, embedding_dim).

        Returns: attentional vectors (batch, tgt_time, units), weights (batch, tgt_time, src).
        """
        def one_step(carry, x_t):
            rnn_state, feed, _ = carry
            output, rnn_state, weights = self._step(x_t, rnn_state, feed, context, training)
            return rnn_state, output, weights

        weights = tf.zeros(tf.shape(context["mask"]), tf.float32)  # (batch, src_time)
        _, outputs, weights = tf.scan(one_step, tf.transpose(embedded, [1, 0, 2]),
                                      initializer=(state["rnn"], state["feed"], weights))
        return tf.transpose(outputs, [1, 0, 2]), tf.transpose(weights, [1, 0, 2])

    # -- one step ------------------------------------------------------------------------------

    def step(self, token_ids, state, context):
        """One inference step. Args: token_ids (rows,); state; context of (batch, ...), where
        each context row serves ``rows // batch`` consecutive rows (a search's hypotheses of
        one sentence read its encoder outputs once).

        Returns: logits (rows, vocab), the new state and attention weights (rows, src_time)
        or None.
        """
        x = self.embedding(token_ids)  # (rows, embedding_dim)
        output, rnn_state, weights = self._step(x, state["rnn"], state.get("feed"), context)
        new_state = {"rnn": rnn_state}
        if self.input_feeding:
            new_state["feed"] = output
        return self._logits(output), new_state, weights

    def _step(self, x, rnn_state, feed, context, training=False):
        """Cells and attention for one position. Returns (output (rows, units), rnn state,
        weights (rows, src_time) or None)."""
        if feed is not None:
            x = tf.concat([x, tf.cast(feed, x.dtype)], axis=-1)
        new_state = []
        for i, (rnn, layer_state) in enumerate(zip(self.rnns, rnn_state)):
            y, layer_state = cell_step(rnn, x, layer_state)
            y = self.dropout(y, training=training)
            x = x + y if self.residual and i > 0 else y
            new_state.append(layer_state)
        if not self.attention:
            return x, new_state, None
        # (rows, units) -> (batch, rows // batch, units): one context row per group of rows.
        queries = tf.reshape(x, [tf.shape(context["mask"])[0], -1, x.shape[-1]])
        output, weights = self.attention(queries, context)
        return (tf.reshape(output, [-1, output.shape[-1]]), new_state,
                tf.reshape(weights, [tf.shape(x)[0], -1]))

    def _logits(self, outputs):
        if self.pre_projection is not None:
            outputs = self.pre_projection(outputs)
        return self.projection(outputs, self.embedding.embeddings)
