"""A line split into words and everything else, as text mode and word tokenizers read it.

Words are runs of letters and combining marks; digits, spacing, punctuation, URLs, e-mail
addresses and (given the source letters) words in another script are kept as they are, except a
full stop that ends a sentence, which becomes what the target language writes
(``decode.full_stop``, "।" for Hindi).

    split("Mehrotra, Dr. N. hain.")
    # [Piece("Mehrotra", True), Piece(", ", False), Piece("Dr", True), ...]
"""

from __future__ import annotations

import re
import unicodedata
from typing import Collection, List, NamedTuple, Optional


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
