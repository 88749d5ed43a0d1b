"""The four kinds of model :func:`translit.load` reads, behind one interface: a run directory,
an ensemble of runs, a SavedModel export and a LiteRT export (which runs without TensorFlow).

A backend translates lines with its search (the beam, or the whole beam's n-best) and says what
it carries: its beam size, its decode settings (for the chain of :mod:`translit.text.chain`),
its source characters and the longest source it reads.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from typing import Iterator, List, Optional, Sequence

from translit.decoding.hypothesis import Hypothesis
from translit.errors import UserError
from translit.recipe import DecodeConfig

EXPORT_BATCH_SIZE = 64


class Backend:
    """What every backend has.

    Attributes:
      kind: ``run``, ``ensemble``, ``export`` (a SavedModel) or ``litert``.
      paths: what was loaded.
      beam_size: the beam it translates with by default (an export's is fixed).
      batch_size: sentences per call of the model.
      has_attention: whether :meth:`attention_maps` has something to show.
      decode: its decode settings (the recipe's; an export's word prior is the counts file it
        carries, and its language model, channel and dictionary are not loaded).
      source_characters: a character model's source characters, else None.
      max_source_pieces: the longest source the model reads, in pieces.
    """

    kind: str
    exported = False
    paths: tuple
    beam_size: int
    batch_size: int
    has_attention = False
    decode: DecodeConfig
    source_characters: Optional[List[str]] = None
    max_source_pieces: Optional[int] = None

    def translate(self, lines: List[str], beam: int, n_best: Optional[int], batch_size: int,
                  warn: bool, first_line: int) -> list:
        """One translation per line, or with ``n_best`` the first ``n_best`` of each line's
        beam as :class:`Hypothesis` lists; ``warn``: log changed lines, numbered from
        ``first_line``."""
        raise NotImplementedError

    def describe_models(self) -> List[dict]:
        """Per model: its path, recipe, checkpoint, step, dev scores (and versions)."""
        raise NotImplementedError

    def forced_scorer(self):
        """The model's :class:`translit.decoding.likelihood.ForcedScorer` (run directories)."""
        raise UserError("dictionary: its candidates are scored by forced decoding, which needs "
                        "one run directory (not an export or an ensemble)")

    def attention_maps(self, lines: List[str], batch_size: int) -> Iterator:
        raise UserError("attention plots need a run directory, not an export")


class RunBackend(Backend):
    """One run directory, or an ensemble of runs that share their tokenizers."""

    def __init__(self, paths: Sequence[str], beam: Optional[int], checkpoint: Optional[str]):
        from translit.decoding.translator import load_translator

        translator, recipe = load_translator(list(paths), beam, checkpoint)
        self.paths, self._checkpoint = tuple(paths), checkpoint
        self.kind = "ensemble" if len(self.paths) > 1 else "run"
        self.decode = recipe.decode
        self.source_characters = getattr(translator.source_tokenizer, "characters", None)
        self.max_source_pieces = translator.max_source_tokens
        self.beam_size = translator.decode.beam_size
        self.batch_size = recipe.decode.batch_size
        self.has_attention = bool(translator.model.has_attention)
        self._translators = {self.beam_size: translator}  # beam size -> Translator

    def translate(self, lines, beam, n_best, batch_size, warn, first_line) -> list:
        translator = self._translator(beam)
        function = translator.translate_n_best if _whole_beam(n_best) else translator.translate
        return _in_graph(function, lines, n_best, batch_size, warn, first_line)

    def _translator(self, beam: int):
        if beam not in self._translators:
            from translit.decoding.translator import Translator

            base = self._translators[self.beam_size]
            self._translators[beam] = Translator(
                base.model, base.source_tokenizer, base.target_tokenizer,
                dataclasses.replace(base.decode, beam_size=beam), base.max_source_tokens)
        return self._translators[beam]

    def describe_models(self) -> List[dict]:
        return [_describe_run(path, self._checkpoint) for path in self.paths]

    def forced_scorer(self):
        if self.kind == "ensemble":
            return super().forced_scorer()  # raises: an ensemble has no one model to score with
        from translit.decoding.likelihood import ForcedScorer

        translator = self._translators[self.beam_size]
        return ForcedScorer(translator.model, translator.source_tokenizer,
                            translator.target_tokenizer, translator.max_source_tokens)

    def attention_maps(self, lines, batch_size) -> Iterator:
        return self._translators[self.beam_size].attention_maps(lines, batch_size)


class SavedModelBackend(Backend):
    """A SavedModel export (``translit export``): its two signatures, 1-best and n-best."""

    kind, exported, batch_size = "export", True, EXPORT_BATCH_SIZE

    def __init__(self, path: str):
        import tensorflow as tf

        from translit.export.saved_model import load_exported
        from translit.recipe import recipe_from_dict

        self.paths = (path,)
        signatures = load_exported(path)
        recipe = _export_recipe(path)
        resolved = recipe_from_dict(recipe, path)
        counts = os.path.join(path, "assets", "word_prior.tsv")
        self.decode = _carried(resolved.decode, counts if os.path.isfile(counts) else None)
        self.source_characters = _export_characters(path, recipe)
        self.max_source_pieces = resolved.data.max_translate_tokens
        self._signatures = {False: signatures["serving_default"], True: signatures["n_best"]}
        # The n-best signature returns the whole beam: its width is the export's beam size.
        probe = self._signatures[True](tf.constant([""]))["translations"]
        self.beam_size = int(probe.shape[1])

    def translate(self, lines, beam, n_best, batch_size, warn, first_line) -> list:
        return _in_graph(self._signatures[_whole_beam(n_best)], lines, n_best, batch_size, warn,
                         first_line)

    def describe_models(self) -> List[dict]:
        from translit.export.saved_model import METADATA

        path = self.paths[0]
        metadata = os.path.join(path, "assets", METADATA)  # absent in older exports
        versions = None
        if os.path.isfile(metadata):
            with open(metadata, encoding="utf-8") as f:
                versions = json.load(f)["versions"]
        return [{"path": path, "recipe": _export_recipe(path), "checkpoint": None, "step": None,
                 "dev_scores": {}, "versions": versions}]


class LiteRTBackend(Backend):
    """A LiteRT export, run by :class:`translit.export.on_device.OnDeviceModel` (one sentence
    per call of the interpreter)."""

    kind, exported, batch_size = "litert", True, 1

    def __init__(self, path: str):
        from translit.export.on_device import OnDeviceModel

        self.paths = (path,)
        self._model = OnDeviceModel(path)
        config = self._model.config
        self.beam_size = self._model.beam_size
        prior = config.get("word_prior")
        carried = {key: config["decode"][key] for key in ("unit", "full_stop")
                   if key in config["decode"]}
        self.decode = _carried(
            DecodeConfig(**carried, word_prior_weight=prior["weight"] if prior else 1.0),
            os.path.join(path, prior["file"]) if prior else None)
        self.source_characters = config["source"].get("characters")
        self.max_source_pieces = config["max_source_pieces"]

    def translate(self, lines, beam, n_best, batch_size, warn, first_line) -> list:
        outputs = self._model.translate_lines(lines, bool(n_best), warn=warn,
                                              first_line=first_line)
        return _first(outputs, n_best)

    def describe_models(self) -> List[dict]:
        from translit.export.on_device import CONFIG

        path = self.paths[0]
        with open(os.path.join(path, CONFIG), encoding="utf-8") as f:
            config = json.load(f)
        return [{"path": path, "recipe": None, "checkpoint": config["checkpoint"], "step": None,
                 "dev_scores": {}, "versions": config["versions"],
                 "quantize": config["quantize"]}]


def open_backend(paths: Sequence[str], beam: Optional[int],
                 checkpoint: Optional[str]) -> Backend:
    """The backend of ``paths``: exports are one model whose beam and weights are fixed."""
    from translit.export.on_device import is_litert_export

    litert = any(is_litert_export(path) for path in paths)
    if not (litert or any(_is_saved_model(path) for path in paths)):
        return RunBackend(paths, beam, checkpoint)
    path = paths[0]
    if len(paths) > 1:
        raise UserError("--model: ensembles combine run directories, not exports")
    if beam is not None:
        raise UserError(f"--beam: {path} is an export, whose beam size was fixed by "
                        "`translit export --beam N`")
    if checkpoint is not None:
        raise UserError(f"--checkpoint: {path} is an export, whose weights were fixed by "
                        "`translit export --checkpoint`")
    return LiteRTBackend(path) if litert else SavedModelBackend(path)


def _whole_beam(n_best: Optional[int]) -> bool:
    """Whether the n-best graph is needed (more than one hypothesis per line)."""
    return bool(n_best and n_best > 1)


def _in_graph(function, lines, n_best, batch_size, warn, first_line) -> list:
    """:meth:`Backend.translate` with a graph of strings in, strings out (``function``)."""
    from translit.decoding.translator import translate_lines

    outputs = translate_lines(function, lines, batch_size, bool(n_best), warn=warn,
                              first_line=first_line)
    return _first(outputs, n_best)


def _first(outputs: list, n_best: Optional[int]) -> list:
    """Translations as they are, or the first ``n_best`` hypotheses of each line."""
    if not n_best:
        return outputs
    return [[Hypothesis(*hyp) for hyp in hyps[:n_best]] for hyps in outputs]


def _carried(decode: DecodeConfig, prior_counts: Optional[str]) -> DecodeConfig:
    """An export's decode settings: its own word prior counts, nothing loaded from elsewhere."""
    return dataclasses.replace(decode, word_prior=prior_counts, lm=None, channel=None,
                               dictionary=None)


def _describe_run(path: str, checkpoint: Optional[str]) -> dict:
    from translit.runs.directory import RunDir

    run = RunDir(path)
    resolved = run.checkpoint(checkpoint)
    number = re.search(r"-(\d+)$", resolved)
    step = int(number.group(1)) if number else None
    records = run.read_metrics() if os.path.isfile(run.metrics_path) else []
    scores = {key: value for record in records if record.get("step") == step
              and record.get("type") in ("eval", "final")
              for key, value in record.items() if key.startswith("valid_")}
    return {"path": path, "recipe": dataclasses.asdict(run.load_recipe()),
            "checkpoint": resolved, "step": step, "dev_scores": scores}


def _export_recipe(path: str) -> dict:
    """The resolved recipe a SavedModel export carries, as a dict."""
    import yaml

    with open(os.path.join(path, "assets", "recipe.yaml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def _export_characters(path: str, recipe: dict) -> Optional[List[str]]:
    """A SavedModel export's source characters (character models), else None."""
    if recipe.get("tokenizer", {}).get("type") != "char":
        return None
    stem = "joint" if recipe["tokenizer"].get("joint") else "source"
    with open(os.path.join(path, "assets", f"{stem}.chars.json"), encoding="utf-8") as f:
        return json.load(f)


def _is_saved_model(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "saved_model.pb"))
