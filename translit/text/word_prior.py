"""A word-frequency prior of the target language, to rerank a word model's n-best.

Each hypothesis is ranked by its model log-probability plus ``weight`` × log P(word) of its
words, P from counts of native-script text with add-0.1 smoothing: (count + 0.1) / (N + 0.1 V).
The simplest target language model: it knows that "में" is a word and "मेन" rarely one.
"""

from __future__ import annotations

import collections
import gzip
import math
import os
from typing import Dict, Iterable, List, Sequence, Tuple

from translit.data.words import split
from translit.decoding.hypothesis import Hypothesis, best_first
from translit.errors import UserError

ALPHA = 0.1
COUNTS_FILE = "word_prior.tsv"  # in exports: word TAB count, most frequent first


class WordPrior:
    """Word counts and the weight of their log-probability in the ranking."""

    def __init__(self, counts: Dict[str, int], weight: float):
        if not counts:
            raise UserError("word prior: the text holds no words")
        self.counts, self.weight = counts, weight
        self._denominator = sum(counts.values()) + ALPHA * len(counts)

    @classmethod
    def load(cls, path: str, weight: float) -> "WordPrior":
        """Counts the words of a text file (plain or .gz), or reads a counts file written by
        :meth:`save` (``.tsv``)."""
        try:
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8") as f:
                if path.endswith(".tsv"):
                    return cls(dict(_count_line(line, path) for line in f if line.strip()),
                               weight)
                return cls(count_words(f), weight)
        except FileNotFoundError:
            raise UserError(f"word prior: {path} not found; decode.word_prior (or "
                            "--word-prior) names a native-script text file") from None
        except UnicodeDecodeError as e:
            raise UserError(f"word prior: {path} is not UTF-8 text ({e.reason} at byte "
                            f"{e.start})") from None

    def save(self, directory: str) -> str:
        """Writes the counts as ``directory/word_prior.tsv``. Returns its path."""
        path = os.path.join(directory, COUNTS_FILE)
        with open(path, "w", encoding="utf-8") as f:
            for word, count in sorted(self.counts.items(), key=lambda item: -item[1]):
                f.write(f"{word}\t{count}\n")
        return path

    def log_prob(self, text: str) -> float:
        """The sum of log P(word) over the words of ``text``."""
        return sum(math.log((self.counts.get(p.text, 0) + ALPHA) / self._denominator)
                   for p in split(text) if p.is_word)

    def rerank(self, sources: Sequence[str], hypotheses: Sequence[Sequence[Hypothesis]],
               at_least: int = 1) -> List[List[Hypothesis]]:
        """A step of :class:`translit.text.chain.Chain`: each hypothesis's score plus
        ``weight`` × the log-probability of its words, best first (the sources are not read)."""
        return [best_first((text, score + self.weight * self.log_prob(text))
                           for text, score in hyps) for hyps in hypotheses]


def count_words(lines: Iterable[str]) -> Dict[str, int]:
    """Counts the words of text lines (as text mode splits them)."""
    return dict(collections.Counter(p.text for line in lines for p in split(line) if p.is_word))


def _count_line(line: str, path: str) -> Tuple[str, int]:
    word, _, count = line.rstrip("\n").rpartition("\t")
    if not word or not count.isdigit():
        raise UserError(f"word prior: {path}: expected 'WORD<TAB>COUNT' lines, received "
                        f"{line.strip()[:80]!r}")
    return word, int(count)
