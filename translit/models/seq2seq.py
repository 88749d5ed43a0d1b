"""The encoder-decoder (Sutskever et al. 2014), with optional attention (Luong et al. 2015)."""

import keras
import tensorflow as tf

from translit.models.decoder import StackedDecoder
from translit.models.encoder import StackedEncoder
from translit.recipe import ModelConfig


class Seq2Seq(keras.Model):
    """Stacked recurrent encoder whose final states start a stacked recurrent decoder.

    The interface that search, scoring and ensembles use:
    ``encode(source_ids) -> (context, state)`` and
    ``decode_step(token_ids, state, context) -> (logits, state, attention weights or None)``.
    ``context`` (what attention reads) is the same for every step; ``state`` changes.
    """

    def __init__(self, config: ModelConfig, source_vocab_size: int, target_vocab_size: int,
                 **kwargs):
        super().__init__(**kwargs)
        self.config = config
        shared = dict(embedding_dim=config.embedding_dim, units=config.units,
                      num_layers=config.layers, dropout=config.dropout, cell=config.cell,
                      residual=config.residual)
        self.encoder = StackedEncoder(source_vocab_size, bidirectional=config.bidirectional,
                                      reverse_source=config.reverse_source, name="encoder",
                                      **shared)
        self.decoder = StackedDecoder(target_vocab_size, attention=config.attention,
                                      input_feeding=config.input_feeding,
                                      tie_embeddings=config.tie_embeddings, name="decoder",
                                      **shared)
        self.has_attention = config.attention != "none"

    def call(self, inputs, training=False, keep=None):
        """Args: inputs (source_ids (batch, src_time), target_in (batch, tgt_time)); keep as in
        :meth:`forced`.

        Returns: logits (batch, tgt_time, target_vocab), or (kept positions, target_vocab).
        """
        return self.forced(*inputs, training=training, keep=keep)[0]

    def forced(self, source_ids, target_in, training=False, keep=None):
        """Teacher-forced decoding. Returns logits (batch, tgt_time, target_vocab), or
        (kept positions, target_vocab) for a ``keep`` mask (batch, tgt_time), and attention
        weights (batch, tgt_time, src_time), or None without attention."""
        context, state = self._encode(source_ids, training)
        return self.decoder(target_in, state, context, training=training, keep=keep)

    def encode(self, source_ids):
        """Returns (context, state): what attention reads and the decoder's first state."""
        return self._encode(source_ids, training=False)

    def decode_step(self, token_ids, state, context):
        return self.decoder.step(token_ids, state, context)

    def _encode(self, source_ids, training):
        outputs, states = self.encoder(source_ids, training=training)
        context = self.decoder.prepare(outputs, tf.not_equal(source_ids, 0))
        return context, self.decoder.initial_state(states)


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
        model = Seq2Seq(config, source_vocab_size, target_vocab_size, name="seq2seq")
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
