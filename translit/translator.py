"""Strings in, strings out: tokenization, the model and beam search in one TensorFlow graph.

:class:`Translator` is what ``translit translate`` runs and what a SavedModel export saves.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Callable, List, Sequence, Tuple

import tensorflow as tf

from translit.errors import UserError
from translit.models import build_model, trackable_weights
from translit.recipe import DecodeConfig, Recipe
from translit.run_dir import RunDir
from translit.search import beam_search
from translit.tokenizers import Tokenizer, load_tokenizers, source_ids

log = logging.getLogger(__name__)


class Translator(tf.Module):
    """Translates a batch of sentences with a trained model in one graph.

    Args:
      model: a :class:`translit.models.Seq2Seq` with weights.
      source_tokenizer, target_tokenizer: the run's tokenizers.
      decode: beam size, length penalty and length limits.
      max_source_tokens: longer sources are cut to this many pieces.
    """

    def __init__(self, model, source_tokenizer: Tokenizer, target_tokenizer: Tokenizer,
                 decode: DecodeConfig, max_source_tokens: int):
        super().__init__(name="translator")
        self.model = model
        self.source_tokenizer = source_tokenizer
        self.target_tokenizer = target_tokenizer
        self.decode = decode
        self.max_source_tokens = max_source_tokens
        self.model_weights = trackable_weights(model)  # tracked for SavedModel export

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def translate(self, texts):
        """(batch,) sentences -> {"translations": (batch,), "scores": (batch,) log-probs}."""
        translations, scores = self._search(texts, n_best=1)
        return {"translations": translations[:, 0], "scores": scores[:, 0]}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def translate_n_best(self, texts):
        """(batch,) sentences -> {"translations": (batch, beam) strings, "scores": (batch, beam)},
        the whole beam, best first."""
        translations, scores = self._search(texts, n_best=self.decode.beam_size)
        return {"translations": translations, "scores": scores}

    def _search(self, texts, n_best):
        ids = source_ids(self.source_tokenizer, texts, self.max_source_tokens)
        ids, lengths, scores = beam_search(
            self.model, ids.to_tensor(), beam_size=self.decode.beam_size,
            alpha=self.decode.length_penalty, max_length_ratio=self.decode.max_length_ratio,
            max_length_offset=self.decode.max_length_offset, n_best=n_best)
        batch, time = tf.shape(ids)[0], tf.shape(ids)[2]
        flat = tf.RaggedTensor.from_tensor(tf.reshape(ids, [-1, time]),
                                           lengths=tf.reshape(lengths, [-1]))
        texts = self.target_tokenizer.detokenize(flat)  # (batch * n_best,)
        return tf.reshape(texts, [batch, n_best]), scores

    def translate_lines(self, lines: Sequence[str], batch_size: int) -> List[str]:
        return translate_lines(self.translate, lines, batch_size)


def translate_lines(translate: Callable, lines: Sequence[str], batch_size: int) -> List[str]:
    """Translates Python strings in batches of similar length, keeping the input order.

    Args:
      translate: (batch,) tf.string -> {"translations": (batch,) tf.string, ...}, such as
        :meth:`Translator.translate` or an exported SavedModel's ``serving_default``.
    Returns:
      One translation per line; blank lines give empty translations without running the model.
    """
    order = sorted((i for i, line in enumerate(lines) if line.strip()), key=lambda i: len(lines[i]))
    results = [""] * len(lines)
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        output = translate(tf.constant([lines[i] for i in chunk]))["translations"]
        for i, text in zip(chunk, output.numpy()):
            results[i] = text.decode("utf-8")
    return results


def load_translator(run_dir: str, beam_size: int | None = None,
                    checkpoint: str | None = None) -> Tuple[Translator, Recipe]:
    """Builds a :class:`Translator` from a run directory's recipe, tokenizers and checkpoint."""
    run = RunDir(run_dir)
    recipe = run.load_recipe()
    source_tok, target_tok = load_tokenizers(recipe.tokenizer, run.tokenizer_dir)
    model = build_model(recipe.model, source_tok.vocab_size, target_tok.vocab_size)
    checkpoint = checkpoint or run.latest_checkpoint()
    if checkpoint is None:
        raise UserError(f"{run_dir}: no checkpoint yet; train first with `translit train`")
    try:
        status = tf.train.Checkpoint(model=trackable_weights(model)).restore(checkpoint)
        status.expect_partial().assert_existing_objects_matched()
    except (AssertionError, tf.errors.OpError, ValueError):
        raise UserError(f"{checkpoint}: does not hold this run's model weights; pass another "
                        "--checkpoint or train again") from None
    log.info("loaded %s", checkpoint)
    decode = recipe.decode
    if beam_size is not None:
        if beam_size < 1:
            raise UserError(f"--beam received {beam_size}, expected a value >= 1")
        decode = dataclasses.replace(decode, beam_size=beam_size)
    translator = Translator(model, source_tok, target_tok, decode,
                            max_source_tokens=4 * recipe.data.max_src_tokens)
    return translator, recipe

