"""LiteRT (TensorFlow Lite) export: ids in, the n-best ids and scores out, builtin ops only.

``OUT_DIR/model.tflite`` holds the encoder, the decoder and the beam search (a ``while`` of plain
tensor ops over fixed-size buffers) for one sentence at a time; ``OUT_DIR/translit.json`` says
what an app needs around it (:data:`FORMAT`): the tokenizers (a character table, or a
SentencePiece model file beside it), the text rules applied before them, the special ids, the
decoding settings and the tensors. :mod:`translit.export.on_device` runs it without TensorFlow.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
from typing import Iterator, Optional

import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from translit.data.special_tokens import BOS_ID, EOS_ID, PAD_ID, UNK_ID
from translit.data.text_rules import CONTROL_CHARACTERS
from translit.data.tokenizers import CharTokenizer, SidePieces
from translit.decoding.search import beam_search_one
from translit.decoding.translator import check_translation_model, load_model
from translit.errors import UserError
from translit.export.on_device import CONFIG, FORMAT, MODEL_FILE, SIGNATURE
from translit.export.saved_model import check_language_model
from translit.runs.directory import RunDir
from translit.text.word_prior import ALPHA, WordPrior
from translit.utils.files import atomic_path
from translit.utils.native_log import native_stderr_hidden, quiet
from translit.version import versions

QUANTIZATIONS = ("none", "dynamic", "float16")


class OnDeviceSearch(tf.Module):
    """The model and its beam search for one sentence of at most ``source_length`` ids."""

    def __init__(self, model, decode, source_length: int):
        super().__init__(name="on_device")
        self.model = model
        self.decode = decode
        self.source_length = source_length

    def signature(self):
        """The concrete function that becomes the LiteRT signature."""
        spec = tf.TensorSpec([1, self.source_length], tf.int32, name="source_ids")
        return tf.function(self.search, input_signature=[spec], autograph=False) \
            .get_concrete_function()

    def search(self, source_ids):
        """Args: source_ids (1, source_length): pieces, EOS, then PAD.

        Returns: {"ids": (beam, max_time), "lengths": (beam,), "scores": (beam,)}, best first.
        """
        decode = self.decode
        ids, lengths, scores = beam_search_one(
            self.model, source_ids, beam_size=decode.beam_size, alpha=decode.length_penalty,
            beta=decode.coverage_penalty, max_length_ratio=decode.max_length_ratio,
            max_length_offset=decode.max_length_offset)
        return {"ids": ids, "lengths": lengths, "scores": scores}


def export_litert(run_dir: str, out_dir: str, beam_size: Optional[int] = None,
                  checkpoint: Optional[str] = None, quantize: str = "none",
                  without_lm: bool = False) -> str:
    """Writes ``out_dir/model.tflite`` and ``out_dir/translit.json`` for a run.

    Args:
      quantize: ``none`` (float32), ``dynamic`` (int8 weights, float activations) or
        ``float16`` (float16 weights).
      without_lm: as for :func:`translit.export.saved_model.export`.
    Returns:
      ``out_dir``, written next to it first and moved into place when complete.
    Raises:
      UserError: ``out_dir`` exists, or the converter needs an operator outside LiteRT's
        builtins (the message names it).
    """
    if quantize not in QUANTIZATIONS:
        raise UserError(f"--quantize received {quantize!r}, expected one of {QUANTIZATIONS}")
    if os.path.exists(out_dir):
        raise UserError(f"{out_dir} exists; choose a new export directory or remove it")
    if beam_size is not None and beam_size < 1:
        raise UserError(f"--beam received {beam_size}, expected a value >= 1")
    run = RunDir(run_dir)
    recipe = run.load_recipe()
    check_translation_model(recipe, run_dir)
    check_language_model(recipe, run_dir, without_lm)
    model, (source_tok, target_tok) = load_model(run, recipe, checkpoint)
    decode = recipe.decode
    if beam_size is not None:
        decode = dataclasses.replace(decode, beam_size=beam_size)
    if not model.has_attention:
        decode = dataclasses.replace(decode, coverage_penalty=0.0)
    source_length = recipe.data.max_translate_tokens + 1  # EOS included
    search = OnDeviceSearch(model, decode, source_length)
    function = search.signature()
    flatbuffer = convert(function, search, quantize)

    with atomic_path(out_dir) as partial:
        os.makedirs(partial)
        with open(os.path.join(partial, MODEL_FILE), "wb") as f:
            f.write(flatbuffer)
        _write_config(partial, function, {
            "format": FORMAT, "versions": versions(), "model_file": MODEL_FILE,
            "signature": SIGNATURE, "quantize": quantize,
            "checkpoint": os.path.relpath(run.checkpoint(checkpoint), run_dir),
            **_app_settings(recipe, decode, (source_tok, target_tok), partial),
            "inputs": {"source_ids": {"dtype": "int32", "shape": [1, source_length]}}})
    return out_dir


def _write_config(directory: str, function, config: dict) -> None:
    """``translit.json``: the settings an app needs, and the model's outputs."""
    config["outputs"] = {name: {"dtype": tensor.dtype.name, "shape": tensor.shape.as_list()}
                         for name, tensor in sorted(function.structured_outputs.items())}
    with open(os.path.join(directory, CONFIG), "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=1)


def _app_settings(recipe, decode, tokenizers, directory: str) -> dict:
    """What an app applies around the model: text rules, tokenizers (files written into
    ``directory``), special ids, length limit, decoding settings and the word prior's counts."""
    settings = {
        "special_ids": {"pad": PAD_ID, "unk": UNK_ID, "bos": BOS_ID, "eos": EOS_ID},
        "text_rules": {"control_characters": CONTROL_CHARACTERS, "control_replacement": " ",
                       "normalization": recipe.tokenizer.normalization},
        "source": _tokenizer_entry(tokenizers[0], "source", directory),
        "target": _tokenizer_entry(tokenizers[1], "target", directory),
        "max_source_pieces": recipe.data.max_translate_tokens,
        "decode": {"beam_size": decode.beam_size, "length_penalty": decode.length_penalty,
                   "coverage_penalty": decode.coverage_penalty,
                   "max_length_ratio": decode.max_length_ratio,
                   "max_length_offset": decode.max_length_offset,
                   "unit": decode.unit, "full_stop": decode.full_stop},
    }
    if recipe.decode.word_prior:  # the app reranks the n-best with its counts
        counts = WordPrior.load(recipe.decode.word_prior, 1.0).save(directory)
        settings["word_prior"] = {"file": os.path.basename(counts), "alpha": ALPHA,
                                  "weight": recipe.decode.word_prior_weight}
    return settings


def convert(function, module: tf.Module, quantize: str = "none") -> bytes:
    """Converts a concrete function to a LiteRT flatbuffer with builtin operators only.

    Raises: UserError naming the operators LiteRT's builtins lack.
    """
    with _converter_notes_hidden():
        # The weights become constants: read as variables inside the search's ``while`` they
        # would need the interpreter to initialise them.
        frozen = convert_variables_to_constants_v2(function, lower_control_flow=False)
        names = sorted(function.structured_outputs)  # freezing leaves them flat, in this order

        @tf.function(input_signature=function.structured_input_signature[0], autograph=False)
        def named(*inputs):
            return dict(zip(names, frozen(*inputs)))

        converter = tf.lite.TFLiteConverter.from_concrete_functions(
            [named.get_concrete_function()], module)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if quantize != "none":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "float16":
            converter.target_spec.supported_types = [tf.float16]
        try:
            return converter.convert()
        except Exception as error:  # the converter raises its own ConverterError
            ops = sorted(set(re.findall(r"\btf\.[A-Za-z0-9_]+", str(error))))
            raise UserError(
                "the LiteRT converter cannot lower this model to builtin operators"
                + (f" ({', '.join(ops)})" if ops else "") + "; export a SavedModel instead "
                f"(`translit export` without --format litert). Converter: "
                f"{_first_line(error)}") from None


@contextlib.contextmanager
def _converter_notes_hidden() -> Iterator[None]:
    """TensorFlow's Python warnings about the tokenizers' tables (which stay out of the model)
    and the converter's native notes, unless the CLI's -v or TF_CPP_MIN_LOG_LEVEL asks."""
    logger = tf.get_logger()
    level = logger.level
    if quiet():
        logger.setLevel("ERROR")
    try:
        with native_stderr_hidden(quiet()):
            yield
    finally:
        logger.setLevel(level)


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if "error" in line.lower()]
    return (lines or [str(error).strip()])[0][:300]


def _tokenizer_entry(tokenizer, stem: str, directory: str) -> dict:
    """The JSON of a tokenizer: a character table inline, a SentencePiece model as a file (and
    a side's pieces of a joint one inline)."""
    if isinstance(tokenizer, CharTokenizer):
        return {"type": "char", "characters": tokenizer.characters}
    if isinstance(tokenizer, SidePieces):
        tokenizer.joint.save(directory, "joint")
        return {"type": "sentencepiece", "model_file": "joint.model", "pieces": tokenizer.kept}
    tokenizer.save(directory, stem)
    return {"type": "sentencepiece", "model_file": f"{stem}.model"}
