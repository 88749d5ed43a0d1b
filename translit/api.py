"""The Python API: load a run directory, an ensemble of run directories or an export, and
translate lists of sentences.

    import translit
    model = translit.load("runs/quickstart")
    model.translate(["drei hundert zwei"])            # -> ["three hundred two"]
    model.translate(["drei"], beam=4, n_best=2)       # -> [[Hypothesis(text, score), ...]]

The CLI's ``translate`` and the service use it; errors a caller can fix raise
:class:`translit.UserError` with a message that says what to do.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Iterable, Iterator, List, NamedTuple, Optional, Sequence, Union

from translit.data.corpus import batched
from translit.errors import UserError
from translit.recipe import DecodeConfig
from translit.utils.native_log import start_tensorflow

log = logging.getLogger(__name__)
EXPORT_BATCH_SIZE = 64
UNITS = ("line", "word")


class Hypothesis(NamedTuple):
    """One translation and its model log-probability (higher is better)."""

    text: str
    score: float


class LoadedModel:
    """A model ready to translate; made by :func:`load`."""

    def __init__(self, paths: Sequence[str], beam: Optional[int], checkpoint: Optional[str],
                 unit: Optional[str] = None, word_prior: Optional[str] = None,
                 word_prior_weight: Optional[float] = None, lm: Optional[str] = None,
                 lm_weight: Optional[float] = None, lm_beam: Optional[int] = None,
                 channel: Optional[str] = None, channel_weight: Optional[float] = None,
                 channel_top: Optional[int] = None, dictionary: Optional[str] = None):
        from translit.export.on_device import is_litert_export

        self.paths = tuple(paths)
        self._checkpoint = checkpoint
        # Text mode (decode.unit: word): the unit, the full stop, the source letters (or None).
        self.unit, self._full_stop, self._source_letters = "line", "", None
        self._max_word = None  # the source pieces the model reads
        self._prior = None  # a WordPrior that reranks the beam
        self._channel = None  # a ChannelModel (the reverse direction) that reranks the beam
        self._dictionary = None  # a Dictionary whose targets join the beam
        self._lm = None  # text mode: a WordLanguageModel that chooses words in context
        self._lm_beam = DecodeConfig().lm_beam  # its beam over each line (the recipe's)
        self._channel_top = DecodeConfig().channel_top  # the hypotheses it scores (0: all)
        self._on_device = None  # a LiteRT export's OnDeviceModel
        self._litert = any(is_litert_export(path) for path in self.paths)
        self._exported = self._litert or any(_is_saved_model(path) for path in self.paths)
        self._translators = {}  # beam size -> Translator (run directories)
        if self._litert:
            self._load_litert(beam, checkpoint)
        elif self._exported:
            self._load_export(beam, checkpoint)
        else:
            self._load_runs(beam, checkpoint)
        if unit is not None:
            if unit not in UNITS:
                raise UserError(f"unit received {unit!r}, expected one of {UNITS}")
            self.unit = unit
        self._override("word_prior", word_prior, word_prior_weight)
        self._override("lm", lm, lm_weight)
        self._override_lm_beam(lm_beam)
        self._override("channel", channel, channel_weight)
        self._override_channel_top(channel_top)
        if dictionary is not None:
            self._set_dictionary(dictionary)

    def _check_export_options(self, beam, checkpoint) -> str:
        """An export is one model whose beam and weights are fixed. Returns its path."""
        path = self.paths[0]
        if len(self.paths) > 1:
            raise UserError("--model: ensembles combine run directories, not exports")
        if beam is not None:
            raise UserError(f"--beam: {path} is an export, whose beam size was fixed by "
                            "`translit export --beam N`")
        if checkpoint is not None:
            raise UserError(f"--checkpoint: {path} is an export, whose weights were fixed by "
                            "`translit export --checkpoint`")
        return path

    def _load_litert(self, beam, checkpoint) -> None:
        from translit.export.on_device import OnDeviceModel

        self._on_device = OnDeviceModel(self._check_export_options(beam, checkpoint))
        self.beam_size, self.has_attention = self._on_device.beam_size, False
        config = self._on_device.config
        self._text_settings(config["decode"], config["source"].get("characters"))
        self._max_word = config["max_source_pieces"]
        prior = config.get("word_prior")
        if prior:
            self._set_prior(os.path.join(self.paths[0], prior["file"]), prior["weight"])
        self.batch_size = 1  # the model reads one sentence at a time

    def _load_export(self, beam, checkpoint) -> None:
        from translit.export.saved_model import load_exported
        from translit.recipe import recipe_from_dict

        path = self._check_export_options(beam, checkpoint)
        signatures = load_exported(path)
        recipe = _export_recipe(path)
        self._text_settings(recipe.get("decode", {}), _export_characters(path, recipe))
        self._max_word = recipe_from_dict(recipe, path).data.max_translate_tokens
        counts = os.path.join(path, "assets", "word_prior.tsv")
        if os.path.isfile(counts):
            self._set_prior(counts, recipe["decode"]["word_prior_weight"])
        self._signatures = {False: signatures["serving_default"], True: signatures["n_best"]}
        self.batch_size = EXPORT_BATCH_SIZE
        import tensorflow as tf

        # The n-best signature returns the whole beam: its width is the export's beam size.
        probe = self._signatures[True](tf.constant([""]))["translations"]
        self.beam_size, self.has_attention = int(probe.shape[1]), False

    def _load_runs(self, beam, checkpoint) -> None:
        from translit.decoding.translator import load_translator

        translator, recipe = load_translator(self.paths, beam, checkpoint)
        self._text_settings(vars(recipe.decode),
                            getattr(translator.source_tokenizer, "characters", None))
        self._max_word = translator.max_source_tokens
        if recipe.decode.word_prior:
            self._set_prior(recipe.decode.word_prior, recipe.decode.word_prior_weight)
        self._lm_beam = recipe.decode.lm_beam
        if recipe.decode.lm:
            self._set_lm(recipe.decode.lm, recipe.decode.lm_weight)
        self._channel_top = recipe.decode.channel_top
        if recipe.decode.channel:
            self._set_channel(recipe.decode.channel, recipe.decode.channel_weight)
        self.beam_size = translator.decode.beam_size
        self.batch_size = recipe.decode.batch_size
        self.has_attention = bool(translator.model.has_attention)
        self._translators[self.beam_size] = translator
        if recipe.decode.dictionary:
            self._set_dictionary(recipe.decode.dictionary)

    def _text_settings(self, decode: dict, source_characters: Optional[Sequence[str]]) -> None:
        """Text mode from the recipe's ``decode`` section and the source vocabulary."""
        self.unit = decode.get("unit", "line")
        self._full_stop = decode.get("full_stop", "")
        self.source_characters = None if source_characters is None else set(source_characters)
        self._source_letters = (None if source_characters is None else
                                {c for c in source_characters if c.isalpha()})

    def _set_prior(self, path: str, weight: float) -> None:
        from translit.text.word_prior import WordPrior

        self._prior = WordPrior.load(path, weight)

    def _set_lm(self, path: str, weight: float) -> None:
        start_tensorflow()  # a LiteRT export's model did not need it
        from translit.text.word_lm import WordLanguageModel

        self._lm = WordLanguageModel(path, weight, self._lm_beam)

    def _set_channel(self, path: str, weight: float) -> None:
        start_tensorflow()
        from translit.text.channel import ChannelModel

        self._channel = ChannelModel(path, weight, self._channel_top)

    def _set_dictionary(self, path: str) -> None:
        from translit.decoding.likelihood import ForcedScorer
        from translit.text.dictionary import Dictionary

        if self._exported or len(self.paths) > 1:
            raise UserError("dictionary: its candidates are scored by forced decoding, which "
                            "needs one run directory (not an export or an ensemble)")
        translator = self._translators[self.beam_size]
        scorer = ForcedScorer(translator.model, translator.source_tokenizer,
                              translator.target_tokenizer, translator.max_source_tokens)
        self._dictionary = Dictionary(path, scorer, translator.decode.length_penalty)

    def _override(self, name: str, path: Optional[str], weight: Optional[float]) -> None:
        """``word_prior``/``lm``/``channel`` (``name``) and its weight given to :func:`load`: a
        new one (with the recipe key's default weight), or a new weight for the one loaded."""
        _check_weight(f"{name}_weight", weight)
        attribute, load_it = {"word_prior": ("_prior", self._set_prior),
                              "lm": ("_lm", self._set_lm),
                              "channel": ("_channel", self._set_channel)}[name]
        if path is not None:
            load_it(path, getattr(DecodeConfig(), f"{name}_weight") if weight is None else weight)
        elif weight is not None:
            if getattr(self, attribute) is None:
                raise UserError(f"{name}_weight: this model has none; give {name} "
                                f"(--{name.replace('_', '-')}) too")
            getattr(self, attribute).weight = weight

    def _override_lm_beam(self, lm_beam: Optional[int]) -> None:
        _check_count("lm_beam", lm_beam)
        if lm_beam is not None:
            if self._lm is None:
                raise UserError("lm_beam: this model has no language model; give lm (--lm) too")
            self._lm_beam = self._lm.beam = lm_beam

    def _override_channel_top(self, channel_top: Optional[int]) -> None:
        _check_count("channel_top", channel_top, low=0)
        if channel_top is not None:
            if self._channel is None:
                raise UserError("channel_top: this model has no channel model; give channel "
                                "(--channel) too")
            self._channel_top = self._channel.top = channel_top

    @property
    def kind(self) -> str:
        """``run``, ``ensemble``, ``export`` (a SavedModel) or ``litert``."""
        if self._exported:
            return "litert" if self._litert else "export"
        return "ensemble" if len(self.paths) > 1 else "run"

    def describe(self) -> dict:
        """What is loaded: kind, beam size, attention, unit, word prior weight, language model,
        channel model and dictionary (or None), and per model its path, resolved recipe,
        checkpoint, step and the dev scores logged for that step (exports: recipe only)."""
        models = [_describe_litert(path) if self._litert else
                  _describe_export(path) if self._exported else
                  _describe_run(path, self._checkpoint) for path in self.paths]
        return {"kind": self.kind, "beam_size": self.beam_size,
                "has_attention": self.has_attention, "unit": self.unit,
                "word_prior_weight": self._prior.weight if self._prior else None,
                "lm": ({"path": self._lm.path, "weight": self._lm.weight, "beam": self._lm.beam}
                       if self._lm else None),
                "channel": ({"path": self._channel.path, "weight": self._channel.weight,
                             "top": self._channel.top} if self._channel else None),
                "dictionary": self._dictionary.path if self._dictionary else None,
                "models": models}

    def translate(self, texts: Union[str, Sequence[str]], *, beam: Optional[int] = None,
                  n_best: Optional[int] = None, batch_size: Optional[int] = None):
        """Translates sentences, keeping their order; blank ones stay blank.

        Args:
          texts: a sentence or a list of sentences.
          beam: beam size (default: the one loaded; an export's is fixed). 1 is greedy search.
          n_best: return the ``n_best`` best hypotheses per sentence (at most the beam size).
          batch_size: sentences per call of the model (default: the recipe's).
        Returns:
          Without ``n_best``: one translation (str) per sentence. With it: one list of
          :class:`Hypothesis` per sentence, best first. A single sentence in, a single result out.
        Raises:
          UserError: a sentence is not a string, or ``beam``/``n_best`` do not fit the model.
        """
        single = isinstance(texts, str)
        lines = _checked_texts([texts] if single else texts)
        outputs = self._translate(lines, self._checked_beam(beam, n_best), n_best,
                                  batch_size or self.batch_size, first_line=1)
        return outputs[0] if single else outputs

    def translate_windows(self, texts: Iterable[str], *, window: Optional[int] = None,
                          beam: Optional[int] = None, n_best: Optional[int] = None,
                          batch_size: Optional[int] = None) -> Iterator[list]:
        """Translates an iterable of any length, ``window`` sentences at a time: each window is
        sorted by length into batches, and its results (as :meth:`translate` returns them) are
        yielded in input order as soon as it is done. Memory is bounded by the window.

        Args:
          window: sentences read at a time (default: 32 batches).
        Raises:
          UserError: at once, before any sentence is read, for options that do not fit.
        """
        batch_size = batch_size or self.batch_size
        beam, window = self._checked_beam(beam, n_best), window or 32 * batch_size
        _check_count("window", window)
        return self._windows(texts, window, beam, n_best, batch_size)

    def _windows(self, texts, window: int, beam: int, n_best: Optional[int],
                 batch_size: int) -> Iterator[list]:
        first_line = 1
        for chunk in batched(texts, window):
            yield self._translate(_checked_texts(chunk), beam, n_best, batch_size, first_line)
            first_line += len(chunk)

    def _translate(self, lines: List[str], beam: int, n_best: Optional[int], batch_size: int,
                   first_line: int) -> list:
        if self.unit == "line":
            return self._translate_units(lines, beam, n_best, batch_size, first_line)
        from translit.text.chain import suggest, translate_text

        def translate_words(words, n_best=1):  # no warnings: word numbers are not line numbers
            return self._translate_units(words, beam, n_best, batch_size, None)

        rules = self._source_letters, self._full_stop
        if n_best and n_best > 1:  # suggestions for the word being typed
            results = suggest(lines, lambda words: translate_words(words, n_best), *rules,
                              first_line=first_line)
            return [[Hypothesis(*hyp) for hyp in hyps] for hyps in results]
        candidates = 1
        if self._lm:  # the language model chooses among the beam, or the channel's first
            candidates = self._channel.top if self._channel and self._channel.top else beam
        results = translate_text(lines, lambda words: translate_words(words, candidates), *rules,
                                 max_letters=self._max_word, first_line=first_line,
                                 choose=self._lm.choose if self._lm else None)
        return [[Hypothesis(*result)] for result in results] if n_best else \
            [text for text, _ in results]

    def _translate_units(self, lines: List[str], beam: int, n_best: Optional[int],
                         batch_size: int, first_line: Optional[int]) -> list:
        """Each line as one source sequence. ``first_line``: the number of the first line in
        warnings (None: no warnings)."""
        if (self._prior or self._channel or self._dictionary) and beam > 1:  # reranked
            outputs = self._model_outputs(lines, beam, beam, batch_size, first_line)
            if self._dictionary:
                outputs = self._dictionary.extend(lines, outputs)
            outputs = [self._rerank(hyps) for hyps in outputs]
            if self._channel:  # as many as asked for, at least
                outputs = self._channel.rescore(lines, outputs, n_best or 1)
            outputs = [hyps[:n_best or 1] for hyps in outputs]
            return [[Hypothesis(*h) for h in hyps] for hyps in outputs] if n_best else \
                [hyps[0][0] for hyps in outputs]
        return self._model_outputs(lines, beam, n_best, batch_size, first_line)

    def _rerank(self, hypotheses: List[Hypothesis]) -> list:
        """(text, score) pairs, best first, the word prior's log-probabilities added."""
        if self._prior:
            return self._prior.rerank(hypotheses)
        return sorted(hypotheses, key=lambda hyp: -hyp[1])

    def _model_outputs(self, lines: List[str], beam: int, n_best: Optional[int],
                       batch_size: int, first_line: Optional[int]) -> list:
        """The model's translations, or with ``n_best`` its :class:`Hypothesis` lists."""
        warn = first_line is not None
        if self._on_device:
            outputs = self._on_device.translate_lines(lines, bool(n_best), warn=warn,
                                                      first_line=first_line or 1)
        else:
            from translit.decoding.translator import translate_lines

            outputs = translate_lines(self._function(beam, n_best), lines, batch_size,
                                      bool(n_best), warn=warn, first_line=first_line or 1)
        if n_best:
            outputs = [[Hypothesis(*hyp) for hyp in hyps[:n_best]] for hyps in outputs]
        return outputs

    def attention_maps(self, texts: Sequence[str], batch_size: Optional[int] = None) -> Iterator:
        """The attention of each non-blank sentence's best translation (attention models).

        Yields: (index, weights (target pieces + EOS, source pieces + EOS) numpy array, source
        pieces, target pieces), pieces as display strings.
        """
        if self._exported:
            raise UserError("attention plots need a run directory, not an export")
        if not self.has_attention:
            raise UserError("attention plots need a model with attention (model.attention in "
                            "the recipe)")
        if self.unit == "word":
            raise UserError("attention: this model transliterates running text word by word "
                            "(decode.unit: word); pass unit='line' (--unit line) for the "
                            "attention of each line as one word")
        translator = self._translators[self.beam_size]
        return translator.attention_maps(_checked_texts(texts), batch_size or self.batch_size)

    def _checked_beam(self, beam: Optional[int], n_best: Optional[int]) -> int:
        _check_count("beam", beam)
        _check_count("n_best", n_best)
        if self._exported and beam not in (None, self.beam_size):
            raise UserError(f"beam: {self.paths[0]} is an export with beam size "
                            f"{self.beam_size}, fixed by `translit export --beam N`")
        beam = beam or self.beam_size
        if n_best and n_best > beam:
            remedy = (f"export again with `translit export --beam {n_best}`" if self._exported
                      else f"pass --beam {n_best} or more")
            raise UserError(f"--n-best {n_best} exceeds the beam size {beam}; {remedy}")
        return beam

    def _function(self, beam: int, n_best: Optional[int]):
        """The graph that translates a (batch,) tf.string tensor with this beam: the 1-best one
        unless more than one hypothesis is wanted."""
        whole_beam = bool(n_best and n_best > 1)
        if self._exported:
            return self._signatures[whole_beam]
        if beam not in self._translators:
            import dataclasses

            from translit.decoding.translator import Translator

            base = self._translators[self.beam_size]
            self._translators[beam] = Translator(
                base.model, base.source_tokenizer, base.target_tokenizer,
                dataclasses.replace(base.decode, beam_size=beam), base.max_source_tokens)
        translator = self._translators[beam]
        return translator.translate_n_best if whole_beam else translator.translate


def _describe_run(path: str, checkpoint: Optional[str]) -> dict:
    import dataclasses

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
    import json

    if recipe.get("tokenizer", {}).get("type") != "char":
        return None
    stem = "joint" if recipe["tokenizer"].get("joint") else "source"
    with open(os.path.join(path, "assets", f"{stem}.chars.json"), encoding="utf-8") as f:
        return json.load(f)


def _describe_export(path: str) -> dict:
    import json

    from translit.export.saved_model import METADATA

    recipe = _export_recipe(path)
    metadata = os.path.join(path, "assets", METADATA)  # absent in older exports
    versions = None
    if os.path.isfile(metadata):
        with open(metadata, encoding="utf-8") as f:
            versions = json.load(f)["versions"]
    return {"path": path, "recipe": recipe, "checkpoint": None, "step": None,
            "dev_scores": {}, "versions": versions}


def _describe_litert(path: str) -> dict:
    import json

    from translit.export.on_device import CONFIG

    with open(os.path.join(path, CONFIG), encoding="utf-8") as f:
        config = json.load(f)
    return {"path": path, "recipe": None, "checkpoint": config["checkpoint"], "step": None,
            "dev_scores": {}, "versions": config["versions"], "quantize": config["quantize"]}


def _is_saved_model(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "saved_model.pb"))


def _check_weight(name: str, value) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                              or value < 0):
        raise UserError(f"{name} received {value!r}, expected a number >= 0")


def _check_count(name: str, value, low: int = 1) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < low):
        raise UserError(f"{name} received {value!r}, expected an integer >= {low}")


def _checked_texts(texts) -> List[str]:
    if isinstance(texts, (str, bytes)) or not isinstance(texts, Sequence):
        raise UserError(f"texts received {type(texts).__name__}, expected a list of strings")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise UserError(f"texts[{index}] received {type(text).__name__}, expected str")
    return list(texts)


def load(paths: Union[str, Sequence[str]], *, beam: Optional[int] = None,
         checkpoint: Optional[str] = None, unit: Optional[str] = None,
         word_prior: Optional[str] = None, word_prior_weight: Optional[float] = None,
         lm: Optional[str] = None, lm_weight: Optional[float] = None,
         lm_beam: Optional[int] = None, channel: Optional[str] = None,
         channel_weight: Optional[float] = None, channel_top: Optional[int] = None,
         dictionary: Optional[str] = None) -> LoadedModel:
    """Loads a model for translation.

    Args:
      paths: a run directory, an export (a SavedModel or a LiteRT export, which runs without
        TensorFlow), or several run directories (their ensemble; they must share their
        tokenizer files).
      beam: beam size for run directories (default: the recipe's ``decode.beam_size``).
      checkpoint: ``best``, ``latest``, ``average`` or a checkpoint path (run directories;
        default: best when the run kept one, else latest).
      unit: ``line`` (a line is one source sequence) or ``word`` (running text, word by word,
        for a model trained on words); default: the recipe's ``decode.unit``.
      word_prior, word_prior_weight: a native-script text file whose word frequencies rerank
        the beam, and their weight (default: the recipe's ``decode.word_prior`` and
        ``decode.word_prior_weight``; an export's are those it carries).
      lm, lm_weight: text mode: a word-level language model run that chooses each word's
        transliteration in context, and its weight (default: the recipe's ``decode.lm`` and
        ``decode.lm_weight``).
      lm_beam: word sequences the language model keeps per line (default: the recipe's
        ``decode.lm_beam``; 1 chooses each word given the words chosen before it).
      channel, channel_weight: a run of the reverse direction (target script -> source
        script) whose log-probability of the source given each hypothesis reranks the beam
        (the noisy channel), and its weight (default: the recipe's ``decode.channel`` and
        ``decode.channel_weight``).
      channel_top: the hypotheses the channel scores, the first of the beam as reranked by
        the model and the word prior, or ``n_best`` if more; the others leave the list
        (default: the recipe's ``decode.channel_top``; 0: all).
      dictionary: a ``source<TAB>target`` TSV file whose targets join each source's beam,
        scored by the model (one run directory; default: the recipe's ``decode.dictionary``).
    Raises:
      UserError: a path is not a run directory or an export, or the options do not fit it.

    TensorFlow's and SentencePiece's native log lines are hidden; to see them, set the
    environment variable ``TF_CPP_MIN_LOG_LEVEL`` to 0 before the first ``load``.
    """
    paths = [paths] if isinstance(paths, str) else list(paths)
    if not paths:
        raise UserError("load needs at least one run directory or export")
    _check_count("beam", beam)
    from translit.export.on_device import is_litert_export

    if not all(is_litert_export(path) for path in paths):  # LiteRT exports run without it
        start_tensorflow()  # quietly, unless the caller set TF_CPP_MIN_LOG_LEVEL
    return LoadedModel(paths, beam, checkpoint, unit, word_prior, word_prior_weight, lm,
                       lm_weight, lm_beam, channel, channel_weight, channel_top, dictionary)
