"""Runs a LiteRT export (``translit export --format litert``) without TensorFlow.

The reference for an app: numpy and the ``ai-edge-litert`` interpreter, plus the
``sentencepiece`` library for SentencePiece models. Per sentence: the text rules of
:mod:`translit.data.text_rules`, the source tokenizer, ids (pieces, EOS, padding) into the model,
the n-best ids and scores out, the target tokenizer back to text.

    from translit.export.on_device import OnDeviceModel
    model = OnDeviceModel("export_litert")
    model.n_best("namaste")   # -> ([("नमस्ते", -0.21), ...], 0): hypotheses, pieces cut
"""

from __future__ import annotations

import json
import os
from typing import List, Optional, Sequence, Tuple

import numpy as np

from translit.data.special_tokens import EOS_ID, PAD_ID, SPECIALS, UNK_ID
from translit.data.text_rules import is_blank, normalize, warn_changed
from translit.errors import UserError
from translit.utils.native_log import native_stderr_hidden

FORMAT = "translit-litert-1"
MODEL_FILE = "model.tflite"
CONFIG = "translit.json"
SIGNATURE = "serving_default"


def is_litert_export(path: str) -> bool:
    return all(os.path.isfile(os.path.join(path, name)) for name in (MODEL_FILE, CONFIG))


class CharTable:
    """One id per character; unknown characters read as <unk>, which writes U+FFFD."""

    def __init__(self, characters: Sequence[str]):
        self._ids = {c: i for i, c in enumerate(characters, start=len(SPECIALS))}
        self._strings = ["", "\ufffd", "", ""] + list(characters)

    def encode(self, text: str) -> List[int]:
        return [self._ids.get(c, UNK_ID) for c in text]

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(self._strings[i] for i in ids)


class SentencePieceTable:
    """A SentencePiece model file, applied as tensorflow-text applies it in the SavedModel.

    Args:
      pieces: a side's pieces of a joint model (``tokenizer.side_vocabularies``), whose
        positions are the model's ids; None: the SentencePiece ids.
    """

    def __init__(self, model_file: str, pieces: Optional[Sequence[int]] = None):
        import sentencepiece

        self._processor = sentencepiece.SentencePieceProcessor(model_file=model_file)
        self._to_joint = None if pieces is None else list(pieces)
        self._to_side = None if pieces is None else {p: i for i, p in enumerate(pieces)}

    def encode(self, text: str) -> List[int]:
        ids = self._processor.encode(text)
        return ids if self._to_side is None else [self._to_side.get(i, UNK_ID) for i in ids]

    def decode(self, ids: Sequence[int]) -> str:
        ids = list(ids) if self._to_joint is None else [self._to_joint[i] for i in ids]
        return self._processor.decode(ids)


class OnDeviceModel:
    """A LiteRT export, one sentence per call of the interpreter.

    Args:
      path: the export directory (``model.tflite`` and ``translit.json``).
      num_threads: the interpreter's threads (default: LiteRT's).
    """

    def __init__(self, path: str, num_threads: Optional[int] = None):
        from ai_edge_litert.interpreter import Interpreter

        with open(os.path.join(path, CONFIG), encoding="utf-8") as f:
            self.config = json.load(f)
        if self.config.get("format") != FORMAT:
            raise UserError(f"{path}/{CONFIG}: format {self.config.get('format')!r}, expected "
                            f"{FORMAT!r}; export the run again with this translit")
        self.path = path
        self.beam_size = self.config["decode"]["beam_size"]
        self.max_source_pieces = self.config["max_source_pieces"]
        self._source = self._table(self.config["source"])
        self._target = self._table(self.config["target"])
        # LiteRT's notes (the XNNPACK delegate) hidden as translit.load hides TensorFlow's.
        with native_stderr_hidden(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3") == "3"):
            interpreter = Interpreter(model_path=os.path.join(path, MODEL_FILE),
                                      num_threads=num_threads)
            self._run = interpreter.get_signature_runner(self.config["signature"])
            self._run(source_ids=np.zeros(self._run.get_input_details()["source_ids"]["shape"],
                                          np.int32))  # the delegate starts on the first call

    def _table(self, entry: dict):
        if entry["type"] == "char":
            return CharTable(entry["characters"])
        return SentencePieceTable(os.path.join(self.path, entry["model_file"]),
                                  entry.get("pieces"))

    def source_ids(self, text: str) -> Tuple[np.ndarray, int]:
        """The model's input for ``text``: (1, max_source_pieces + 1) int32, and how many
        pieces were cut at the length limit."""
        pieces = self._source.encode(normalize(text, self.config["text_rules"]["normalization"]))
        cut = max(len(pieces) - self.max_source_pieces, 0)
        ids = np.full([1, self.max_source_pieces + 1], PAD_ID, np.int32)
        kept = pieces[:self.max_source_pieces] + [EOS_ID]
        ids[0, :len(kept)] = kept
        return ids, cut

    def n_best(self, text: str) -> Tuple[List[Tuple[str, float]], int]:
        """The beam of one sentence, best first, and the pieces cut at the length limit.

        Returns: ([(translation, log-probability), ...], pieces cut); a blank sentence gives
        [("", 0.0)] without running the model.
        """
        if is_blank(normalize(text, self.config["text_rules"]["normalization"])):
            return [("", 0.0)], 0
        ids, cut = self.source_ids(text)
        outputs = self._run(source_ids=ids)
        hypotheses = [(self._target.decode(row[:length]), float(score)) for row, length, score
                      in zip(outputs["ids"], outputs["lengths"], outputs["scores"])]
        return hypotheses, cut

    def translate_lines(self, lines: Sequence[str], n_best: bool = False, warn: bool = False,
                        first_line: int = 1) -> list:
        """As :func:`translit.decoding.translator.translate_lines`: one translation per line, or
        with ``n_best`` a list of (translation, score) per line; ``warn`` logs changed lines."""
        results = []
        for number, line in enumerate(lines, start=first_line):
            hypotheses, cut = self.n_best(line)
            if warn:
                warn_changed(number, line, cut)
            results.append(hypotheses if n_best else hypotheses[0][0])
        return results
