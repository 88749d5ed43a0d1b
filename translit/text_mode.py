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

import re
import unicodedata
from typing import Callable, Collection, Dict, List, NamedTuple, Optional, Sequence, Tuple

from translit.errors import UserError


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
        text = match.group()
        is_word = match.lastgroup == "word" and (
            source_letters is None or any(c in source_letters for c in text.casefold()))
        if pieces and not is_word and not pieces[-1].is_word:
            pieces[-1] = Piece(pieces[-1].text + text, False)
        else:
            pieces.append(Piece(text, is_word))
    return pieces


Scored = Tuple[str, float]  # a text and its log-probability


def translate_text(lines: Sequence[str],
                   translate_words: Callable[[List[str]], List[Scored]],
                   source_letters: Optional[Collection[str]] = None,
                   full_stop: str = "") -> List[Scored]:
    """Transliterates running text word by word.

    Args:
      translate_words: distinct case-folded words -> their (transliteration, log-probability),
        in order.
      source_letters, full_stop: as for :func:`split`.
    Returns: per line, its text and the sum of its words' log-probabilities.
    """
    split_lines = [split(line, source_letters, full_stop) for line in lines]
    words = sorted({p.text.casefold() for pieces in split_lines for p in pieces if p.is_word})
    translations: Dict[str, Scored] = dict(zip(words, translate_words(words))) if words else {}
    results = []
    for pieces in split_lines:
        outputs = [translations[p.text.casefold()] if p.is_word else (p.text, 0.0)
                   for p in pieces]
        results.append(("".join(text for text, _ in outputs), sum(s for _, s in outputs)))
    return results


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
