"""The stacked recurrent encoder: a sentence in, its outputs and every layer's final state out."""

import keras
import tensorflow as tf

from translit.models.cells import recurrent_layer, run_layer
from translit.special_tokens import PAD_ID


class StackedEncoder(keras.layers.Layer):
    """Embedding and ``num_layers`` recurrent layers; their final states form the state vector.

    Args:
      cell: ``lstm``, ``gru`` or ``cifg``.
      bidirectional: each layer reads the sentence both ways (``units`` per direction); a bridge
        (dense + tanh) maps each final state from 2 * units to ``units`` for the decoder.
      residual: layers after the first add their input to their output.
      reverse_source: read the source backwards (Sutskever et al. 2014); outputs are returned in
        source order, so attention weights line up with the source tokens.
    """

    def __init__(self, vocab_size, embedding_dim, units, num_layers, dropout, cell="lstm",
                 bidirectional=False, residual=False, reverse_source=False, **kwargs):
        super().__init__(**kwargs)
        self.options = dict(vocab_size=vocab_size, embedding_dim=embedding_dim, units=units,
                            num_layers=num_layers, dropout=dropout, cell=cell,
                            bidirectional=bidirectional, residual=residual,
                            reverse_source=reverse_source)
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")
        self.dropout = keras.layers.Dropout(dropout)
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
        x = self.dropout(self.embedding(source_ids), training=training)
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
