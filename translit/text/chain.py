"""What happens to a source's candidates between the beam and the output.

The beam's hypotheses for each source (a line, or in text mode a word) pass through the
:class:`Chain`'s steps, in this order, each with one method, ``rerank(sources, candidates,
at_least)``, returning every source's candidates best first:

1. the dictionary (``decode.dictionary``) adds its targets that the beam lacks, scored by the
   model (:class:`translit.text.dictionary.Dictionary`);
2. the word prior (``decode.word_prior``) adds ``weight`` × log P(word)
   (:class:`translit.text.word_prior.WordPrior`);
3. the noisy channel (``decode.channel``) keeps the first ``channel_top`` and adds ``weight`` ×
   log P_reverse(source | candidate) (:class:`translit.text.channel.ChannelModel`).

In text mode (``decode.unit: word``) each line is split into words (:mod:`translit.data.words`);
each distinct word goes through the beam and the steps once, and then, with a language model
(``decode.lm``), the chain's ``context`` chooses each word's candidate in the context of the
words before it (:class:`translit.text.word_lm.WordLanguageModel`); without one, each word's
first. The words' choices are joined back into the line, the rest of it kept.
"""

from __future__ import annotations

import logging
from typing import Callable, Collection, Dict, List, Optional, Protocol, Sequence

from translit.data.words import Piece, split
from translit.decoding.hypothesis import Hypothesis
from translit.errors import UserError
from translit.recipe import DecodeConfig
from translit.utils.native_log import start_tensorflow

log = logging.getLogger(__name__)

Candidates = List[Hypothesis]  # a source's candidates, best first


class Step(Protocol):
    """One step of the chain (dictionary, word prior, channel)."""

    def rerank(self, sources: Sequence[str], candidates: Sequence[Sequence[Hypothesis]],
               at_least: int = 1) -> List[Candidates]:
        """Per source, its candidates best first; ``at_least``: how many the caller needs."""


class Chain:
    """The steps after the beam, and in text mode the language model that chooses in context.

    Args:
      dictionary, prior, channel: the steps in their order (each optional).
      context: a :class:`translit.text.word_lm.WordLanguageModel`, or None.
    """

    def __init__(self, dictionary=None, prior=None, channel=None, context=None):
        self.dictionary, self.prior, self.channel, self.context = (dictionary, prior, channel,
                                                                   context)

    @property
    def steps(self) -> List[Step]:
        return [s for s in (self.dictionary, self.prior, self.channel) if s is not None]

    def rerank(self, sources: Sequence[str], candidates: Sequence[Sequence[Hypothesis]],
               at_least: int = 1) -> List[Candidates]:
        """Each source's beam through the steps; returns per source at least ``at_least``
        candidates (as many as it has), best first."""
        candidates = [sorted(map(Hypothesis._make, c), key=lambda h: -h.score)
                      for c in candidates]
        for step in self.steps:
            candidates = step.rerank(sources, candidates, at_least)
        return candidates

    def context_candidates(self, beam: int) -> int:
        """The candidates per word the language model chooses among: the channel's first, else
        the beam (without a language model, 1)."""
        if not self.context:
            return 1
        return self.channel.top if self.channel and self.channel.top else beam

    def describe(self) -> dict:
        """The steps' settings, as :meth:`translit.api.LoadedModel.describe` shows them."""
        lm, channel = self.context, self.channel
        return {"word_prior_weight": self.prior.weight if self.prior else None,
                "lm": {"path": lm.path, "weight": lm.weight, "beam": lm.beam} if lm else None,
                "channel": ({"path": channel.path, "weight": channel.weight,
                             "top": channel.top} if channel else None),
                "dictionary": self.dictionary.path if self.dictionary else None}


def build_chain(decode: DecodeConfig, forced_scorer: Callable[[], object]) -> Chain:
    """The chain a model's decode settings ask for, in one place.

    Args:
      decode: the recipe's ``decode`` section, with :func:`translit.load`'s overrides.
      forced_scorer: returns the translating model's
        :class:`translit.decoding.likelihood.ForcedScorer` (the dictionary scores with it).
    """
    chain = Chain()
    if decode.dictionary:
        from translit.text.dictionary import Dictionary

        chain.dictionary = Dictionary(decode.dictionary, forced_scorer(), decode.length_penalty)
    if decode.word_prior:
        from translit.text.word_prior import WordPrior

        chain.prior = WordPrior.load(decode.word_prior, decode.word_prior_weight)
    if decode.channel:
        start_tensorflow()  # a LiteRT export's model did not need it
        from translit.text.channel import ChannelModel

        chain.channel = ChannelModel(decode.channel, decode.channel_weight, decode.channel_top)
    if decode.lm:
        start_tensorflow()
        from translit.text.word_lm import WordLanguageModel

        chain.context = WordLanguageModel(decode.lm, decode.lm_weight, decode.lm_beam)
    return chain


Chooser = Callable[[List[List[Candidates]]], List[List[Hypothesis]]]


def translate_text(lines: Sequence[str],
                   translate_words: Callable[[List[str]], List[Candidates]],
                   source_letters: Optional[Collection[str]] = None,
                   full_stop: str = "", max_letters: Optional[int] = None,
                   first_line: int = 1, choose: Optional[Chooser] = None) -> List[Hypothesis]:
    """Transliterates running text word by word.

    Args:
      translate_words: distinct case-folded words -> their candidates, in order.
      source_letters, full_stop: as for :func:`split`.
      max_letters: longer words are kept as they are, with a warning naming the line (numbered
        from ``first_line``): the model would read only their beginning.
      choose: per line, per word, the candidates -> the chosen ones (a language model's
        choice in context, :meth:`translit.text.word_lm.WordLanguageModel.choose`); default: each
        word's first.
    Returns: per line, its text and the sum of its words' scores.
    """
    split_lines = [split(line, source_letters, full_stop) for line in lines]
    if max_letters is not None:
        split_lines = [_keep_long_words(pieces, max_letters, number)
                       for number, pieces in enumerate(split_lines, start=first_line)]
    words = sorted({p.text.casefold() for pieces in split_lines for p in pieces if p.is_word})
    candidates: Dict[str, Candidates] = dict(zip(words, translate_words(words))) if words else {}
    per_line = [[candidates[p.text.casefold()] for p in pieces if p.is_word]
                for pieces in split_lines]
    chosen = choose(per_line) if choose else [[c[0] for c in line] for line in per_line]
    results = []
    for pieces, line_words in zip(split_lines, chosen):
        line_words = iter(line_words)
        outputs = [next(line_words) if p.is_word else (p.text, 0.0) for p in pieces]
        results.append(Hypothesis("".join(text for text, _ in outputs),
                                  sum(s for _, s in outputs)))
    return results


def _keep_long_words(pieces: List[Piece], max_letters: int, number: int) -> List[Piece]:
    kept = [Piece(p.text, False) if p.is_word and len(p.text) > max_letters else p
            for p in pieces]
    for piece in pieces:
        if piece.is_word and len(piece.text) > max_letters:
            log.warning("line %d: a word of %d letters kept as it is (the model reads at most %d)",
                        number, len(piece.text), max_letters)
    return kept


def suggest(texts: Sequence[str],
            translate_n_best: Callable[[List[str]], List[List[Hypothesis]]],
            source_letters: Optional[Collection[str]] = None,
            full_stop: str = "", first_line: int = 1) -> List[List[Hypothesis]]:
    """The n-best of texts of at most one word each (the word being typed), the rest kept.

    Args:
      translate_n_best: case-folded words -> their n-best (text, score) lists.
      first_line: the number of the first text in messages.
    Returns: per text, its alternatives, best first; a text without a word, itself (score 0).
    Raises:
      UserError: a text holds more than one word.
    """
    split_texts = [split(text, source_letters, full_stop) for text in texts]
    for index, pieces in enumerate(split_texts):
        count = sum(p.is_word for p in pieces)
        if count > 1:
            raise UserError(f"line {first_line + index} holds {count} words; the n-best of "
                            "running text is given for one word at a time (the word being "
                            "typed): send each word as a line, ask for the 1-best, or pass "
                            "--unit line (unit='line') for the n-best of each line as one word")
    words = [p.text.casefold() for pieces in split_texts for p in pieces if p.is_word]
    alternatives = iter(translate_n_best(words) if words else [])
    results = []
    for pieces in split_texts:
        if not any(p.is_word for p in pieces):
            results.append([Hypothesis("".join(p.text for p in pieces), 0.0)])
            continue
        results.append([Hypothesis("".join(text if p.is_word else p.text for p in pieces), score)
                        for text, score in next(alternatives)])
    return results
