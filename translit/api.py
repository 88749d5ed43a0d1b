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

import dataclasses
from typing import Iterable, Iterator, List, Optional, Sequence, Union

from translit.backends import Backend, open_backend
from translit.data.corpus import batched
from translit.errors import UserError
from translit.recipe import DecodeConfig
from translit.text.chain import Chain, build_chain, suggest, translate_text
from translit.utils.native_log import start_tensorflow

UNITS = ("line", "word")


class LoadedModel:
    """A model ready to translate; made by :func:`load`.

    Args:
      backend: what translates lines (:mod:`translit.backends`).
      chain: what happens to the beam's candidates (:mod:`translit.text.chain`).
      unit: ``line`` or ``word`` (text mode).
    """

    def __init__(self, backend: Backend, chain: Chain, unit: str):
        self.backend, self.chain, self.unit = backend, chain, unit
        self.paths, self.beam_size = backend.paths, backend.beam_size
        self.batch_size, self.has_attention = backend.batch_size, backend.has_attention
        characters = backend.source_characters
        self.source_characters = None if characters is None else set(characters)
        # Text mode: the source letters (a word with none of them is kept) and the full stop.
        self._source_letters = (None if characters is None else
                                {c for c in characters if c.isalpha()})
        self._full_stop = backend.decode.full_stop

    @property
    def kind(self) -> str:
        """``run``, ``ensemble``, ``export`` (a SavedModel) or ``litert``."""
        return self.backend.kind

    def describe(self) -> dict:
        """What is loaded: kind, beam size, attention, unit, word prior weight, language model,
        channel model and dictionary (or None), and per model its path, resolved recipe,
        checkpoint, step and the dev scores logged for that step (exports: recipe only)."""
        return {"kind": self.kind, "beam_size": self.beam_size,
                "has_attention": self.has_attention, "unit": self.unit,
                **self.chain.describe(), "models": self.backend.describe_models()}

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

        def translate_words(words, n_best=1):  # no warnings: word numbers are not line numbers
            return self._translate_units(words, beam, n_best, batch_size, None)

        rules = self._source_letters, self._full_stop
        if n_best and n_best > 1:  # suggestions for the word being typed
            return suggest(lines, lambda words: translate_words(words, n_best), *rules,
                           first_line=first_line)
        context = self.chain.context
        results = translate_text(
            lines, lambda words: translate_words(words, self.chain.context_candidates(beam)),
            *rules, max_letters=self.backend.max_source_pieces, first_line=first_line,
            choose=context.choose if context else None)
        return [[result] for result in results] if n_best else [text for text, _ in results]

    def _translate_units(self, lines: List[str], beam: int, n_best: Optional[int],
                         batch_size: int, first_line: Optional[int]) -> list:
        """Each line as one source sequence, its beam through the chain's steps.
        ``first_line``: the number of the first line in warnings (None: no warnings)."""
        warn, first_line = first_line is not None, first_line or 1
        if not (self.chain.steps and beam > 1):
            return self.backend.translate(lines, beam, n_best, batch_size, warn, first_line)
        beams = self.backend.translate(lines, beam, beam, batch_size, warn, first_line)
        outputs = [hyps[:n_best or 1] for hyps in self.chain.rerank(lines, beams, n_best or 1)]
        return outputs if n_best else [hyps[0].text for hyps in outputs]

    def attention_maps(self, texts: Sequence[str], batch_size: Optional[int] = None) -> Iterator:
        """The attention of each non-blank sentence's best translation (attention models).

        Yields: (index, weights (target pieces + EOS, source pieces + EOS) numpy array, source
        pieces, target pieces), pieces as display strings.
        """
        if not self.backend.exported and not self.has_attention:  # an export's backend says
            raise UserError("attention plots need a model with attention (model.attention in "
                            "the recipe)")
        if not self.backend.exported and self.unit == "word":
            raise UserError("attention: this model transliterates running text word by word "
                            "(decode.unit: word); pass unit='line' (--unit line) for the "
                            "attention of each line as one word")
        return self.backend.attention_maps(_checked_texts(texts), batch_size or self.batch_size)

    def _checked_beam(self, beam: Optional[int], n_best: Optional[int]) -> int:
        _check_count("beam", beam)
        _check_count("n_best", n_best)
        exported = self.backend.exported
        if exported and beam not in (None, self.beam_size):
            raise UserError(f"beam: {self.paths[0]} is an export with beam size "
                            f"{self.beam_size}, fixed by `translit export --beam N`")
        beam = beam or self.beam_size
        if n_best and n_best > beam:
            remedy = (f"export again with `translit export --beam {n_best}`" if exported
                      else f"pass --beam {n_best} or more")
            raise UserError(f"--n-best {n_best} exceeds the beam size {beam}; {remedy}")
        return beam


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
    if unit is not None and unit not in UNITS:
        raise UserError(f"unit received {unit!r}, expected one of {UNITS}")
    backend = open_backend(paths, beam, checkpoint)
    decode = _overridden(backend.decode, word_prior=word_prior,
                         word_prior_weight=word_prior_weight, lm=lm, lm_weight=lm_weight,
                         lm_beam=lm_beam, channel=channel, channel_weight=channel_weight,
                         channel_top=channel_top, dictionary=dictionary)
    chain = build_chain(decode, backend.forced_scorer)
    return LoadedModel(backend, chain, unit or decode.unit)


def _overridden(decode: DecodeConfig, **given) -> DecodeConfig:
    """The model's decode settings with those given to :func:`load`: a path brings its recipe
    key's default weight unless a weight is given too; a weight alone changes the model's."""
    for name in ("word_prior", "lm", "channel"):
        _check_weight(f"{name}_weight", given[f"{name}_weight"])
    _check_count("lm_beam", given["lm_beam"])
    _check_count("channel_top", given["channel_top"], low=0)
    defaults, changes = DecodeConfig(), {}
    for name in ("word_prior", "lm", "channel"):
        path, weight = given[name], given[f"{name}_weight"]
        if path is not None:
            changes[name] = path
            changes[f"{name}_weight"] = getattr(defaults, f"{name}_weight") \
                if weight is None else weight
        elif weight is not None:
            if getattr(decode, name) is None:
                raise UserError(f"{name}_weight: this model has none; give {name} "
                                f"(--{name.replace('_', '-')}) too")
            changes[f"{name}_weight"] = weight
    for name, needs in (("lm_beam", "lm"), ("channel_top", "channel")):
        if given[name] is not None:
            if not (changes.get(needs) or getattr(decode, needs)):
                what = "language model" if needs == "lm" else "channel model"
                raise UserError(f"{name}: this model has no {what}; give {needs} "
                                f"(--{needs}) too")
            changes[name] = given[name]
    if given["dictionary"] is not None:
        changes["dictionary"] = given["dictionary"]
    return dataclasses.replace(decode, **changes)
