"""Strings in, strings out: tokenization, the model and beam search in one TensorFlow graph.

:class:`Translator` is what ``translit translate`` runs and what a SavedModel export saves.
"""

from __future__ import annotations

import dataclasses
import filecmp
import logging
import os
from typing import Callable, Iterator, List, Sequence, Tuple

import tensorflow as tf

from translit.data.corpus import batched
from translit.data.special_tokens import EOS_ID, PAD_ID
from translit.data.text_rules import warn_changed
from translit.data.tokenizers import Tokenizer, load_tokenizers, with_eos
from translit.decoding.search import beam_search
from translit.errors import UserError
from translit.models import Ensemble, build_model, trackable_weights
from translit.recipe import DecodeConfig, Recipe
from translit.runs.checkpoints import restore_weights
from translit.runs.directory import CHECKPOINT_KINDS, RunDir

log = logging.getLogger(__name__)


class Translator(tf.Module):
    """Translates a batch of sentences with a trained model in one graph.

    Args:
      model: a :class:`translit.models.Seq2Seq` with weights, or an ``Ensemble``.
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
        # Tracked for SavedModel export; an ensemble's members one by one.
        self.model_weights = [trackable_weights(m) for m in getattr(model, "models", [model])]

    # The search is written in TensorFlow ops (tf.while_loop, tf.cond): autograph has nothing to
    # convert but Keras's own code, which took 2 s of a 2.6 s first call.
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)], autograph=False)
    def translate(self, texts):
        """(batch,) sentences -> {"translations": (batch,), "scores": (batch,) log-probs,
        "truncated_pieces": (batch,) source pieces cut at the length limit}."""
        outputs = self._search(texts, n_best=1)
        return {**outputs, "translations": outputs["translations"][:, 0],
                "scores": outputs["scores"][:, 0]}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)], autograph=False)
    def translate_n_best(self, texts):
        """(batch,) sentences -> {"translations": (batch, beam) strings, "scores": (batch, beam),
        "truncated_pieces": (batch,)}, the whole beam, best first."""
        return self._search(texts, n_best=self.decode.beam_size)

    def _search(self, texts, n_best):
        source, truncated = self._source(texts)
        ids, lengths, scores = self._beam_search(source, n_best=n_best)
        batch, time = tf.shape(ids)[0], tf.shape(ids)[2]
        flat = tf.RaggedTensor.from_tensor(tf.reshape(ids, [-1, time]),
                                           lengths=tf.reshape(lengths, [-1]))
        translations = tf.reshape(self.target_tokenizer.detokenize(flat), [batch, n_best])
        # A blank line translates to a blank line (the model would write a word for it).
        blank = tf.strings.regex_full_match(self.source_tokenizer.normalize(texts),
                                            r"[\s\p{Z}]*")[:, None]  # (batch, 1)
        return {"translations": tf.where(blank, "", translations),
                "scores": tf.where(blank, 0.0, scores), "truncated_pieces": truncated}

    def translate_lines(self, lines: Sequence[str], batch_size: int) -> List[str]:
        return translate_lines(self.translate, lines, batch_size)

    def attention_maps(self, lines: Sequence[str], batch_size: int) -> Iterator[Tuple]:
        """Attention of each non-blank line's best translation, for plots.

        Yields: (line index, weights (target pieces + EOS, source pieces + EOS) numpy array,
        source pieces, target pieces), pieces as display strings.
        """
        for chunk in batched((i for i, line in enumerate(lines) if line.strip()), batch_size):
            source, ids, lengths, weights = self._attend(tf.constant([lines[i] for i in chunk]))
            for row, index in enumerate(chunk):
                source_row = source[row][source[row] != PAD_ID]  # pieces and EOS
                target_row = tf.concat([ids[row, :lengths[row]], [EOS_ID]], axis=0)
                yield (index, weights[row, :len(target_row), :len(source_row)].numpy(),
                       _strings(self.source_tokenizer.pieces(source_row)),
                       _strings(self.target_tokenizer.pieces(target_row)))

    @tf.function(autograph=False)  # no signature: never traced, hence never saved, by an export
    def _attend(self, texts):
        source, _ = self._source(texts)
        ids, lengths, _, weights = self._beam_search(source, return_attention=True)
        return source, ids[:, 0], lengths[:, 0], weights[:, 0]

    def _source(self, texts):
        """(batch,) strings -> (batch, src_time) ids with EOS, right-padded, and (batch,) int32
        how many pieces were cut at ``max_source_tokens``."""
        pieces = self.source_tokenizer.tokenize(texts)  # (batch, None)
        truncated = tf.maximum(pieces.row_lengths() - self.max_source_tokens, 0)
        return with_eos(pieces, self.max_source_tokens).to_tensor(), tf.cast(truncated, tf.int32)

    def _beam_search(self, source, **options):
        """:func:`beam_search` with the decoding settings of this translator."""
        decode = self.decode
        return beam_search(self.model, source, beam_size=decode.beam_size,
                           alpha=decode.length_penalty, beta=decode.coverage_penalty,
                           max_length_ratio=decode.max_length_ratio,
                           max_length_offset=decode.max_length_offset, **options)


def _strings(tensor) -> List[str]:
    return [piece.decode("utf-8") for piece in tensor.numpy()]


def translate_lines(translate: Callable, lines: Sequence[str], batch_size: int,
                    n_best: bool = False, warn: bool = False, first_line: int = 1) -> List:
    """Translates Python strings in batches of similar length, keeping the input order.

    Args:
      translate: (batch,) tf.string -> {"translations", "scores"}, such as
        :meth:`Translator.translate` or an exported SavedModel's ``serving_default``; with
        ``n_best``, also :meth:`Translator.translate_n_best` or the ``n_best`` signature
        (outputs of shape (batch, beam)).
      warn: log a warning for each line whose control characters became spaces or whose
        source was cut at the length limit, numbered from ``first_line``.
    Returns:
      One translation per line, or with ``n_best`` a list of (translation, score) per line,
      best first; blank lines give "" (n-best: [("", 0.0)]) without running the model.
    """
    order = sorted((i for i, line in enumerate(lines) if line.strip()), key=lambda i: len(lines[i]))
    results = [[("", 0.0)] if n_best else ""] * len(lines)
    for chunk in batched(order, batch_size):
        output = translate(tf.constant([lines[i] for i in chunk]))
        translations, scores = output["translations"].numpy(), output["scores"].numpy()
        if n_best and translations.ndim == 1:  # the 1-best graph
            translations, scores = translations[:, None], scores[:, None]
        for i, texts, scores in zip(chunk, translations, scores):
            results[i] = ([(t.decode("utf-8"), float(s)) for t, s in zip(texts, scores)]
                          if n_best else texts.decode("utf-8"))
        if warn:
            truncated = output.get("truncated_pieces", tf.zeros(len(chunk), tf.int32)).numpy()
            for i, cut in zip(chunk, truncated):
                warn_changed(first_line + i, lines[i], int(cut))
    return results


def load_model(run: RunDir, recipe: Recipe, checkpoint: str | None = None):
    """Builds a run's model and restores ``checkpoint`` (see :meth:`RunDir.checkpoint`).

    Returns: the model and the run's (source, target) tokenizers.
    """
    source_tok, target_tok = load_tokenizers(recipe.tokenizer, run.tokenizer_dir)
    model = build_model(source_tok.vocab_size, target_tok.vocab_size,
                        **dataclasses.asdict(recipe.model))
    path = run.checkpoint(checkpoint)
    restore_weights(model, path)
    log.info("loaded %s", path)
    return model, (source_tok, target_tok)


def load_translator(run_dirs: str | Sequence[str], beam_size: int | None = None,
                    checkpoint: str | None = None) -> Tuple[Translator, Recipe]:
    """Builds a :class:`Translator` from run directories: one model, or an ensemble of several
    that share their tokenizers (decoding settings come from the first).

    Args:
      checkpoint: ``best``, ``latest``, ``average`` or a path (one run only); None: each run's
        best checkpoint when it kept one, else its latest.
    """
    run_dirs = [run_dirs] if isinstance(run_dirs, str) else list(run_dirs)
    if len(run_dirs) > 1 and checkpoint not in (None, *CHECKPOINT_KINDS):
        raise UserError("--checkpoint PATH selects one model; with several runs use best, "
                        "latest or average")
    runs = [RunDir(path) for path in run_dirs]
    recipes = [run.load_recipe() for run in runs]
    for run, recipe in zip(runs, recipes):
        check_translation_model(recipe, run.path)
    for run in runs[1:]:
        _check_same_tokenizers(runs[0], run)
    models = []
    for run, recipe in zip(runs, recipes):
        model, tokenizers = load_model(run, recipe, checkpoint)
        models.append(model)
    decode = recipes[0].decode
    if beam_size is not None:
        if beam_size < 1:
            raise UserError(f"--beam received {beam_size}, expected a value >= 1")
        decode = dataclasses.replace(decode, beam_size=beam_size)
    model = models[0] if len(models) == 1 else Ensemble(models)
    if decode.coverage_penalty and not model.has_attention:
        decode = dataclasses.replace(decode, coverage_penalty=0.0)
    translator = Translator(model, *tokenizers, decode,
                            max_source_tokens=recipes[0].data.max_translate_tokens)
    return translator, recipes[0]


def check_translation_model(recipe: Recipe, path: str) -> None:
    """A language model run (``model.kind: lm``) has nothing to translate."""
    if recipe.model.kind == "lm":
        raise UserError(f"{path} is a language model (model.kind: lm), which translates "
                        "nothing: give it to a word model's decode.lm (--lm), and translate "
                        "with the word model")


def _check_same_tokenizers(first: RunDir, other: RunDir) -> None:
    """Ensemble members read the same source pieces and write the same target pieces."""
    names = sorted(os.listdir(first.tokenizer_dir))
    same = names == sorted(os.listdir(other.tokenizer_dir)) and all(
        filecmp.cmp(os.path.join(first.tokenizer_dir, n), os.path.join(other.tokenizer_dir, n),
                    shallow=False) for n in names)
    if not same:
        raise UserError(f"{other.path} and {first.path} have different tokenizers; an ensemble "
                        "needs runs trained with the same tokenizer files")
