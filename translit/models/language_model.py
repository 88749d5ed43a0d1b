"""A language model of the target side: the stacked decoder without an encoder.

It takes the inputs a :class:`translit.models.Seq2Seq` takes, so that training, dev loss,
checkpoints and search serve it unchanged, and ignores the source: its first state is zeros.
"""

import keras
import tensorflow as tf

from translit.models.decoder import StackedDecoder


class LanguageModel(keras.Model):
    """P(token | the tokens before it), from ``layers`` recurrent layers over the embeddings.

    Args (a recipe's ``model`` keys): target_vocab_size, embedding_dim, units, layers, dropout,
      cell, residual, tie_embeddings, embedding_dropout, output_dropout.
    """

    has_attention = False
    KEYS = ("embedding_dim", "units", "layers", "dropout", "cell", "residual", "tie_embeddings",
            "embedding_dropout", "output_dropout")

    def __init__(self, target_vocab_size: int, embedding_dim: int = 256, units: int = 256,
                 layers: int = 2, dropout: float = 0.2, cell: str = "lstm",
                 residual: bool = False, tie_embeddings: bool = False,
                 embedding_dropout: float | None = None, output_dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.options = dict(target_vocab_size=target_vocab_size, embedding_dim=embedding_dim,
                            units=units, layers=layers, dropout=dropout, cell=cell,
                            residual=residual, tie_embeddings=tie_embeddings,
                            embedding_dropout=embedding_dropout, output_dropout=output_dropout)
        self.state_count = 1 if cell == "gru" else 2
        self.decoder = StackedDecoder(target_vocab_size, embedding_dim, units, layers, dropout,
                                      cell=cell, residual=residual,
                                      tie_embeddings=tie_embeddings,
                                      embedding_dropout=embedding_dropout,
                                      output_dropout=output_dropout, name="decoder")

    def get_config(self):
        return {**super().get_config(), **self.options}

    def call(self, inputs, training=False, keep=None):
        """Args: inputs (source_ids, ignored; target_in (batch, time), BOS first).

        Returns: logits (batch, time, vocab), or (kept positions, vocab) for a ``keep`` mask.
        """
        return self.forced(*inputs, training=training, keep=keep)[0]

    def forced(self, source_ids, target_in, training=False, keep=None):
        _, state = self.encode(target_in)
        return self.decoder(target_in, state, {}, training=training, keep=keep)

    def encode(self, ids):
        """The first state, zeros, for a batch as long as ``ids`` (batch, time): ({}, state)."""
        batch = tf.shape(ids)[0]
        units = self.options["units"]
        zeros = [[tf.zeros([batch, units]) for _ in range(self.state_count)]
                 for _ in range(self.options["layers"])]
        return {}, self.decoder.initial_state(zeros)

    def decode_step(self, token_ids, state, context):
        """(batch,) tokens -> logits (batch, vocab), the next state, None."""
        return self.decoder.step(token_ids, state, context)
