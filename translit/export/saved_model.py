"""SavedModel export: strings in, strings out, loadable with plain TensorFlow + tensorflow-text.

Signatures (both take ``texts``, a 1-D ``tf.string`` batch of source sentences):
  ``serving_default``: ``translations`` (batch,) tf.string and ``scores`` (batch,) float32,
    the model log-probability of each translation.
  ``n_best``: ``translations`` (batch, beam) and ``scores`` (batch, beam), best first.
Tokenization (normalization, SentencePiece or characters), beam search and detokenization are in
the graph; the tokenizer files and the resolved recipe travel along in ``assets/``, with
``assets/translit.json``: the versions of translit, TensorFlow and Keras that wrote it, the beam
size and the checkpoint; and ``assets/word_prior.tsv``, the counts of the recipe's
``decode.word_prior``, which ``translit.load`` applies to the ``n_best`` signature's beam.
"""

from __future__ import annotations

import functools
import glob
import json
import os
from typing import Callable, Dict, Optional

import tensorflow as tf

from translit.decoding.translator import load_translator
from translit.errors import UserError
from translit.runs.directory import RunDir
from translit.text.word_prior import WordPrior
from translit.utils.files import atomic_path
from translit.utils.native_log import native_stderr_hidden, quiet
from translit.version import versions

SIGNATURE_INPUT = "texts"
METADATA = "translit.json"  # in assets/


def export(run_dir: str, out_dir: str, beam_size: Optional[int] = None,
           checkpoint: Optional[str] = None, without_lm: bool = False) -> str:
    """Writes the SavedModel of a run to ``out_dir``.

    Args:
      checkpoint: best, latest, average or a path (see :meth:`RunDir.checkpoint`).
      without_lm: export a run whose recipe sets ``decode.lm``, ``decode.channel`` or
        ``decode.dictionary`` without them (otherwise refused).

    Returns:
      ``out_dir``. The export is written next to it first and moved into place when complete.
    """
    if os.path.exists(out_dir):
        raise UserError(f"{out_dir} exists; choose a new export directory or remove it")
    check_language_model(RunDir(run_dir).load_recipe(), run_dir, without_lm)
    with atomic_path(out_dir) as partial:
        _save(run_dir, partial, beam_size, checkpoint)
    return out_dir


def _save(run_dir: str, path: str, beam_size: Optional[int], checkpoint: Optional[str]) -> None:
    translator, recipe = load_translator(run_dir, beam_size, checkpoint)
    run = RunDir(run_dir)
    files = [run.recipe_path] + sorted(glob.glob(os.path.join(run.tokenizer_dir, "*")))
    translator.assets = [tf.saved_model.Asset(file) for file in files]
    tf.saved_model.save(translator, path, signatures={
        "serving_default": translator.translate.get_concrete_function(),
        "n_best": translator.translate_n_best.get_concrete_function(),
    })
    metadata = {"versions": versions(), "beam_size": translator.decode.beam_size,
                "checkpoint": os.path.relpath(run.checkpoint(checkpoint), run_dir)}
    with open(os.path.join(path, "assets", METADATA), "w", encoding="utf-8") as f:
        json.dump(metadata, f, indent=1)
    if recipe.decode.word_prior:  # its counts, which translit.load applies (not the graph)
        WordPrior.load(recipe.decode.word_prior, 1.0).save(os.path.join(path, "assets"))


def check_language_model(recipe, run_dir: str, without_lm: bool) -> None:
    """Exports carry no language model (``decode.lm``), channel model (``decode.channel``) or
    dictionary (``decode.dictionary``): refused unless ``without_lm``."""
    for key, what, remedy in (
            ("lm", "a language model", "translit.load(EXPORT, lm=RUN) attaches it again"),
            ("channel", "a reverse (channel) model",
             "translit.load(EXPORT, channel=RUN) attaches it again"),
            ("dictionary", "a dictionary", "it scores its candidates with the run directory")):
        path = getattr(recipe.decode, key)
        if path and not without_lm:
            raise UserError(f"{run_dir}: decode.{key} names {what} ({path}), which an export "
                            f"does not carry; pass --without-lm to export the word model alone "
                            f"({remedy})")


def load_exported(path: str) -> Dict[str, Callable]:
    """Loads an export's signatures as callables: name -> ((batch,) tf.string -> dict)."""
    import tensorflow_text  # noqa: F401  registers the tokenizer ops

    with native_stderr_hidden(quiet()):  # the tokenizer's SentencePiece logs as it loads
        signatures = tf.saved_model.load(path).signatures
    return {name: functools.partial(_call, signature) for name, signature in signatures.items()}


def _call(signature, texts):
    return signature(**{SIGNATURE_INPUT: texts})
