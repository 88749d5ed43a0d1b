"""Running text through a model trained on words (``decode.unit: word``).

A line is split into words and everything else. Each distinct word in the source script is
transliterated once per call (case folded, in one batched call of the word model); digits,
spacing, punctuation, URLs, e-mail addresses and words in any other script (text already in the
target script, say) are kept as they are, except a full stop that ends a sentence, which is
written as the target language writes it (``decode.full_stop``, "।" for Hindi).

    split("Mehrotra, Dr. N. hain.")
    # [Piece("Mehrotra", True), Piece(", ", False), Piece("Dr", True), ...]
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Callable, Collection, Dict, List, NamedTuple, Optional, Sequence, Tuple

from translit.errors import UserError

log = logging.getLogger(__name__)


def _marks() -> str:
    """A character class of the combining marks of the Basic Multilingual Plane (vowel signs,
    viramas, accents) and the zero-width (non-)joiners, which belong to the word they are in."""
    marks = [chr(c) for c in range(0x10000) if unicodedata.category(chr(c)).startswith("M")]
    return "[" + re.escape("".join(marks) + "\u200c\u200d") + "]"


# Kept whole: URLs and e-mail addresses. Words: runs of letters and marks. Everything else, a
# run of white space or one character.
_TOKENS = re.compile(
    r"(?P<keep>(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
    rf"|(?P<word>(?:[^\W\d_]|{_marks()})+)"
    r"|(?P<other>\s+|.)", re.S)
# A full stop that ends a sentence: after a word of two letters or more (not an initial such as
# "N."), before white space, a closing quote or bracket, or the end of the line.
_FULL_STOP = re.compile(r"(?<=[^\W\d_]{2})\.(?=[\s\"'”’)\]]*(?:\s|$))")


class Piece(NamedTuple):
    """A stretch of a line: a word to transliterate, or text kept as it is."""

    text: str
    is_word: bool


def split(line: str, source_letters: Optional[Collection[str]] = None,
          full_stop: str = "") -> List[Piece]:
    """Splits a line into pieces that join back to it (full stops aside).

    Args:
      source_letters: the letters of the source script (a character model's vocabulary): a
        word with none of them is kept. None: every word is transliterated.
      full_stop: what a sentence-ending "." becomes ("" keeps it).
    """
    if full_stop:
        line = _FULL_STOP.sub(full_stop, line)
    pieces = []
    for match in _TOKENS.finditer(line):
        runs = [Piece(match.group(), False)] if match.lastgroup != "word" else \
            _script_runs(match.group(), source_letters)
        for piece in runs:
            if pieces and not piece.is_word and not pieces[-1].is_word:
                pieces[-1] = Piece(pieces[-1].text + piece.text, False)
            else:
                pieces.append(piece)
    return pieces


def _script_runs(word: str, source_letters: Optional[Collection[str]]) -> List[Piece]:
    """A word's runs of source letters (to transliterate) and of other letters (kept): "abcनम"
    -> "abc", "नम". A combining mark goes with the letter before it."""
    if source_letters is None:
        return [Piece(word, True)]
    runs: List[Piece] = []
    for c in word:
        inside = all(x in source_letters for x in c.casefold()) or bool(
            runs and runs[-1].is_word and unicodedata.category(c).startswith("M"))
        if runs and runs[-1].is_word == inside:
            runs[-1] = Piece(runs[-1].text + c, inside)
        else:
            runs.append(Piece(c, inside))
    return runs


Scored = Tuple[str, float]  # a text and its log-probability


Candidates = List[Scored]  # a word's transliterations, best first
Chooser = Callable[[List[List[Candidates]]], List[List[Scored]]]


def translate_text(lines: Sequence[str],
                   translate_words: Callable[[List[str]], List[Candidates]],
                   source_letters: Optional[Collection[str]] = None,
                   full_stop: str = "", max_letters: Optional[int] = None,
                   first_line: int = 1, choose: Optional[Chooser] = None) -> List[Scored]:
    """Transliterates running text word by word.

    Args:
      translate_words: distinct case-folded words -> their candidates, in order.
      source_letters, full_stop: as for :func:`split`.
      max_letters: longer words are kept as they are, with a warning naming the line (numbered
        from ``first_line``): the model would read only their beginning.
      choose: per line, per word, the candidates -> the chosen ones (a language model's
        choice in context, :meth:`translit.word_lm.WordLanguageModel.choose`); default: each
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
        results.append(("".join(text for text, _ in outputs), sum(s for _, s in outputs)))
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
            translate_n_best: Callable[[List[str]], List[List[Scored]]],
            source_letters: Optional[Collection[str]] = None,
            full_stop: str = "", first_line: int = 1) -> List[List[Scored]]:
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
            results.append([("".join(p.text for p in pieces), 0.0)])
            continue
        results.append([("".join(text if p.is_word else p.text for p in pieces), score)
                        for text, score in next(alternatives)])
    return results
