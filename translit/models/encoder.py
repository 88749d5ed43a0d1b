"""The stacked LSTM encoder: a sentence in, every layer's final (h, c) out."""

import keras
import tensorflow as tf


def stacked_lstms(units: int, num_layers: int):
    """LSTM layers with Keras's defaults (tanh/sigmoid, bias, no recurrent dropout), returning
    sequences and final states: on a GPU with right-padded masks they run the cuDNN kernel."""
    return [keras.layers.LSTM(units, return_sequences=True, return_state=True, name=f"lstm_{i}")
            for i in range(num_layers)]


class StackedEncoder(keras.layers.Layer):
    """Embedding and ``num_layers`` LSTMs; their final states form the state vector."""

    def __init__(self, vocab_size, embedding_dim, units, num_layers, dropout, **kwargs):
        super().__init__(**kwargs)
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")
        self.dropout = keras.layers.Dropout(dropout)
        self.lstms = stacked_lstms(units, num_layers)

    def call(self, source_ids, training=False):
        """Args: source_ids (batch, src_time) int32, 0 = padding.

        Returns:
          outputs (batch, src_time, units) and states, a list of [h, c] per layer, each
          (batch, units).
        """
        mask = tf.not_equal(source_ids, 0)  # (batch, src_time)
        x = self.dropout(self.embedding(source_ids), training=training)
        states = []
        for lstm in self.lstms:
            x, h, c = lstm(x, mask=mask, training=training)  # x: (batch, src_time, units)
            states.append([h, c])
            x = self.dropout(x, training=training)
        return x, states
