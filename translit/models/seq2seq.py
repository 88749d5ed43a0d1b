"""The encoder-decoder (Sutskever et al. 2014): the encoder's state vector starts the decoder."""

import keras
import tensorflow as tf

from translit.models.decoder import StackedDecoder
from translit.models.encoder import StackedEncoder
from translit.recipe import ModelConfig


class Seq2Seq(keras.Model):
    """Stacked LSTM encoder whose final (h, c) per layer initialize a stacked LSTM decoder."""

    def __init__(self, source_vocab_size, target_vocab_size, embedding_dim=256, units=256,
                 num_layers=2, dropout=0.2, **kwargs):
        super().__init__(**kwargs)
        self.encoder = StackedEncoder(source_vocab_size, embedding_dim, units, num_layers,
                                      dropout, name="encoder")
        self.decoder = StackedDecoder(target_vocab_size, embedding_dim, units, num_layers,
                                      dropout, name="decoder")

    def call(self, inputs, training=False):
        """Args: inputs (source_ids (batch, src_time), target_in (batch, tgt_time)).

        Returns: logits (batch, tgt_time, target_vocab).
        """
        source_ids, target_in = inputs
        _, states = self.encoder(source_ids, training=training)
        return self.decoder(target_in, states, training=training)

    def encode(self, source_ids):
        """Returns the state vector: [h, c] per layer, each (batch, units)."""
        return self.encoder(source_ids, training=False)[1]

    def decode_step(self, token_ids, states):
        return self.decoder.step(token_ids, states)


def build_model(config: ModelConfig, source_vocab_size: int, target_vocab_size: int,
                precision: str = "float32") -> Seq2Seq:
    """Creates the model from the recipe's ``model`` section and builds its weights.

    Args:
      precision: a Keras dtype policy; ``mixed_float16`` and ``mixed_bfloat16`` compute in half
        precision and keep float32 weights, so checkpoints load into a float32 model.
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)  # layers take the policy when they are created
    try:
        model = Seq2Seq(source_vocab_size, target_vocab_size, config.embedding_dim, config.units,
                        config.layers, config.dropout, name="seq2seq")
    finally:
        keras.config.set_dtype_policy(previous)
    dummy = tf.ones((1, 2), tf.int32)
    model((dummy, dummy))
    return model


def trackable_weights(model: keras.Model) -> tf.Module:
    """A module tracking every weight of ``model`` by its path, for ``tf.train.Checkpoint``.

    Keras 3 does not hand layers kept in Python lists (the stacked LSTMs) to TensorFlow's
    object tracking, so checkpoints name weights by path instead:
    ``seq2seq/encoder/lstm_0/lstm_cell/kernel``.
    """
    module = tf.Module(name="weights")
    module.by_path = {weight.path: weight for weight in model.weights}
    return module
