"""The stacked recurrent encoder: a sentence in, its outputs and every layer's final state out."""

import keras
import tensorflow as tf

from translit.data.special_tokens import PAD_ID
from translit.models.cells import cell_step, recurrent_layer, run_layer


class StackedEncoder(keras.layers.Layer):
    """Embedding and ``num_layers`` recurrent layers; their final states form the state vector.

    Args:
      cell: ``lstm``, ``gru`` or ``cifg``.
      bidirectional: each layer reads the sentence both ways (``units`` per direction); a bridge
        (dense + tanh) maps each final state from 2 * units to ``units`` for the decoder.
      residual: layers after the first add their input to their output.
      reverse_source: read the source backwards (Sutskever et al. 2014); outputs are returned in
        source order, so attention weights line up with the source tokens.
      embedding_dropout: of the embeddings; None: ``dropout`` (which drops each layer's output).
    """

    def __init__(self, vocab_size, embedding_dim, units, num_layers, dropout, cell="lstm",
                 bidirectional=False, residual=False, reverse_source=False,
                 embedding_dropout=None, **kwargs):
        super().__init__(**kwargs)
        self.options = dict(vocab_size=vocab_size, embedding_dim=embedding_dim, units=units,
                            num_layers=num_layers, dropout=dropout, cell=cell,
                            bidirectional=bidirectional, residual=residual,
                            reverse_source=reverse_source, embedding_dropout=embedding_dropout)
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")
        self.dropout = keras.layers.Dropout(dropout)
        self.embedding_dropout = keras.layers.Dropout(
            dropout if embedding_dropout is None else embedding_dropout)
        self.residual = residual
        self.reverse_source = reverse_source
        self.layers_forward = [recurrent_layer(cell, units, f"{cell}_{i}")
                               for i in range(num_layers)]
        self.layers_backward, self.bridges = [], []
        if bidirectional:
            self.layers_backward = [recurrent_layer(cell, units, f"{cell}_{i}_backward")
                                    for i in range(num_layers)]
            state_count = 1 if cell == "gru" else 2
            self.bridges = [keras.layers.Dense(units, activation="tanh", name=f"bridge_{i}")
                            for i in range(num_layers * state_count)]

    def get_config(self):
        return {**super().get_config(), **self.options}

    def call(self, source_ids, training=False):
        """Args: source_ids (batch, src_time) int32, right-padded with PAD_ID.

        Returns:
          outputs (batch, src_time, units or 2 * units) and states: per layer a list of
          (batch, units) tensors ([h, c] for LSTM and CIFG, [h] for GRU).
        """
        mask = tf.not_equal(source_ids, PAD_ID)  # (batch, src_time)
        lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
        x = self.embedding_dropout(self.embedding(source_ids), training=training)
        def reverse(sequence):  # (batch, src_time, features), each sentence's tokens reversed
            return tf.reverse_sequence(sequence, lengths, seq_axis=1, batch_axis=0)

        if self.reverse_source:
            x = reverse(x)
        states = []
        for i, forward in enumerate(self.layers_forward):
            outputs, layer_states = run_layer(forward, x, mask, training=training)
            if self.layers_backward:
                # Reversing each sentence keeps padding on the right (the cuDNN condition).
                backward, back_states = run_layer(self.layers_backward[i], reverse(x), mask,
                                                  training=training)
                backward = reverse(backward)
                outputs = tf.concat([outputs, backward], axis=-1)  # (batch, src, 2 * units)
                layer_states = [self.bridges[i * len(layer_states) + j](tf.concat(pair, -1))
                                for j, pair in enumerate(zip(layer_states, back_states))]
            outputs = self.dropout(outputs, training=training)
            x = x + outputs if self.residual and i > 0 else outputs
            states.append(layer_states)
        if self.reverse_source:
            x = reverse(x)
        return x, states

    def encode_one(self, source_ids):
        """Encodes one sentence step by step with the layers' cells, in plain tensor ops
        (a ``while`` per layer, fixed-size buffers, no TensorList): what LiteRT runs. The
        outputs and states equal :meth:`call`'s for the real positions.

        Args: source_ids (1, src_time) int32, right-padded with PAD_ID.
        Returns: as :meth:`call`; outputs at padded positions are zeros.
        """
        src_time = source_ids.shape[1]
        length = tf.reduce_sum(tf.cast(tf.not_equal(source_ids[0], PAD_ID), tf.int32))
        positions = tf.range(src_time)
        # Each sentence's tokens reversed, padding left in place: (src_time,) positions.
        reversed_order = tf.where(positions < length, length - 1 - positions, positions)

        def reverse(sequence):  # (src_time, features)
            return tf.gather(sequence, reversed_order)

        x = self.embedding(source_ids[0])  # (src_time, embedding_dim)
        if self.reverse_source:
            x = reverse(x)
        states = []
        for i, forward in enumerate(self.layers_forward):
            outputs, layer_states = _run_cell(forward, x, length)
            if self.layers_backward:
                backward, back_states = _run_cell(self.layers_backward[i], reverse(x), length)
                outputs = tf.concat([outputs, reverse(backward)], axis=-1)  # (src, 2 * units)
                layer_states = [self.bridges[i * len(layer_states) + j](tf.concat(pair, -1))
                                for j, pair in enumerate(zip(layer_states, back_states))]
            x = x + outputs if self.residual and i > 0 else outputs
            states.append(layer_states)
        if self.reverse_source:
            x = reverse(x)
        return x[None], states


def _run_cell(layer, x, length):
    """Runs ``layer``'s cell over the first ``length`` rows of x (src_time, features).

    Returns: outputs (src_time, units), zeros past ``length``, and the final states, each
    (1, units).
    """
    src_time, units = x.shape[0], layer.cell.units
    positions = tf.range(src_time)[:, None]  # (src_time, 1)
    state = [tf.zeros([1, units]) for _ in tf.nest.flatten(layer.cell.state_size)]

    def step(t, outputs, state):
        y, state = cell_step(layer, x[t][None], state)  # (1, units)
        return t + 1, tf.where(tf.equal(positions, t), y, outputs), state

    # Zeros computed from the input: a constant would be stored in the LiteRT file (161 x 256
    # float32, 165 kB, for the Dakshina recipe's encoder).
    zeros = tf.tile(x[:, :1] * 0.0, [1, units])  # (src_time, units)
    _, outputs, state = tf.while_loop(lambda t, *_: t < length, step,
                                      (tf.constant(0), zeros, state))
    return outputs, state
