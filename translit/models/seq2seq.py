"""The encoder-decoder (Sutskever et al. 2014), with optional attention (Luong et al. 2015)."""

import keras
import tensorflow as tf

from translit.data.special_tokens import PAD_ID
from translit.models.decoder import StackedDecoder
from translit.models.encoder import StackedEncoder
from translit.models.language_model import LanguageModel


class Seq2Seq(keras.Model):
    """Stacked recurrent encoder whose final states start a stacked recurrent decoder.

    The interface that search, scoring and ensembles use:
    ``encode(source_ids) -> (context, state)`` and
    ``decode_step(token_ids, state, context) -> (logits, state, attention weights or None)``.
    ``context`` (what attention reads) is the same for every step, one row per sentence, which
    serves that many consecutive token rows (a search's beam); ``state`` changes.

    Args (the recipe's ``model`` keys, which document them, are named alike):
      source_vocab_size, target_vocab_size: the tokenizers' vocabulary sizes.
      embedding_dim, units, layers, dropout, cell, attention, attention_activation,
      input_feeding, bidirectional, residual, reverse_source, tie_embeddings,
      embedding_dropout, output_dropout: the architecture.
    """

    def __init__(self, source_vocab_size: int, target_vocab_size: int, embedding_dim: int = 256,
                 units: int = 256, layers: int = 2, dropout: float = 0.2, cell: str = "lstm",
                 attention: str = "none", attention_activation: str = "tanh",
                 input_feeding: bool = False, bidirectional: bool = False, residual: bool = False,
                 reverse_source: bool = False, tie_embeddings: bool = False,
                 embedding_dropout: float | None = None, output_dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.options = dict(
            source_vocab_size=source_vocab_size, target_vocab_size=target_vocab_size,
            embedding_dim=embedding_dim, units=units, layers=layers, dropout=dropout, cell=cell,
            attention=attention, attention_activation=attention_activation,
            input_feeding=input_feeding, bidirectional=bidirectional, residual=residual,
            reverse_source=reverse_source, tie_embeddings=tie_embeddings,
            embedding_dropout=embedding_dropout, output_dropout=output_dropout)
        shared = dict(embedding_dim=embedding_dim, units=units, num_layers=layers,
                      dropout=dropout, cell=cell, residual=residual,
                      embedding_dropout=embedding_dropout)
        self.encoder = StackedEncoder(source_vocab_size, bidirectional=bidirectional,
                                      reverse_source=reverse_source, name="encoder", **shared)
        self.decoder = StackedDecoder(target_vocab_size, attention=attention,
                                      attention_activation=attention_activation,
                                      input_feeding=input_feeding,
                                      tie_embeddings=tie_embeddings,
                                      output_dropout=output_dropout, name="decoder", **shared)
        self.has_attention = attention != "none"

    def get_config(self):
        return {**super().get_config(), **self.options}

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

    def encode_one(self, source_ids):
        """:meth:`encode` of one sentence (1, src_time) in fixed-size tensors (LiteRT)."""
        outputs, states = self.encoder.encode_one(source_ids)
        context = self.decoder.prepare(outputs, tf.not_equal(source_ids, PAD_ID))
        return context, self.decoder.initial_state(states)

    def decode_step(self, token_ids, state, context):
        return self.decoder.step(token_ids, state, context)

    def _encode(self, source_ids, training):
        outputs, states = self.encoder(source_ids, training=training)
        context = self.decoder.prepare(outputs, tf.not_equal(source_ids, PAD_ID))
        return context, self.decoder.initial_state(states)


def build_model(source_vocab_size: int, target_vocab_size: int, precision: str = "float32",
                kind: str = "seq2seq", **options) -> keras.Model:
    """Creates a :class:`Seq2Seq`, or with ``kind`` ``lm`` a :class:`LanguageModel`, and builds
    its weights.

    Args:
      precision: a Keras dtype policy; ``mixed_float16`` and ``mixed_bfloat16`` compute in half
        precision and keep float32 weights, so checkpoints load into a float32 model.
      options: the architecture, as :class:`Seq2Seq` takes it (a recipe's ``model`` section);
        a language model takes the decoder's keys of it.
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)  # layers take the policy when they are created
    try:
        if kind == "lm":
            model = LanguageModel(target_vocab_size, name="lm",
                                  **{key: options[key] for key in LanguageModel.KEYS})
        else:
            model = Seq2Seq(source_vocab_size, target_vocab_size, name="seq2seq", **options)
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
    paths = [weight.path for weight in model.weights]
    shared = sorted({path for path in paths if paths.count(path) > 1})
    if shared:  # a checkpoint would keep only one weight of each such path
        raise ValueError(f"weights share a path: {shared}")
    module = tf.Module(name="weights")
    module.by_path = dict(zip(paths, model.weights))
    return module
