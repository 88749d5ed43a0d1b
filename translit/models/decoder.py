"""The stacked LSTM decoder: teacher-forced for training, one step at a time for search."""

import keras

from translit.models.encoder import stacked_lstms


class StackedDecoder(keras.layers.Layer):
    """Embedding, ``num_layers`` LSTMs initialized from the encoder's states, projection.

    ``call`` runs whole LSTM layers (the cuDNN path); ``step`` reuses the same layers' cells.
    """

    def __init__(self, vocab_size, embedding_dim, units, num_layers, dropout, **kwargs):
        super().__init__(**kwargs)
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")
        self.dropout = keras.layers.Dropout(dropout)
        self.lstms = stacked_lstms(units, num_layers)
        self.projection = keras.layers.Dense(vocab_size, name="projection")

    def call(self, target_ids, states, training=False):
        """Args: target_ids (batch, tgt_time), BOS first; states: [h, c] per layer.

        Returns: logits (batch, tgt_time, vocab).
        """
        x = self.dropout(self.embedding(target_ids), training=training)
        for lstm, state in zip(self.lstms, states):
            x, _, _ = lstm(x, initial_state=state, training=training)  # (batch, tgt_time, units)
            x = self.dropout(x, training=training)
        return self.projection(x)

    def step(self, token_ids, states):
        """One inference step. Args: token_ids (batch,); states: [h, c] per layer.

        Returns: logits (batch, vocab) and the new states.
        """
        x = self.embedding(token_ids)  # (batch, embedding_dim)
        new_states = []
        for lstm, state in zip(self.lstms, states):
            x, state = lstm.cell(x, state)  # (batch, units)
            new_states.append(list(state))
        return self.projection(x), new_states
