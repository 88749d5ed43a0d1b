"""The rules every tokenizer applies to text before it reads it, in plain Python.

Control characters become spaces, then Unicode normalization (NFC, NFKC, ..., or
``NFKC_Casefold``, which also folds case). The tokenizers apply the same rules in-graph
(:mod:`translit.data.tokenizers`); this module serves what runs without TensorFlow (the LiteRT
wrapper, :mod:`translit.export.on_device`) and the warnings about changed lines.
"""

from __future__ import annotations

import logging
import re
import unicodedata

log = logging.getLogger(__name__)

# C0 and C1 control characters (NUL, tab, form feed, DEL, ...): each becomes a space before
# normalization, in training and translation alike (same pattern for Python's re and RE2).
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f-\x9f]"
CASE_FOLD = "NFKC_Casefold"  # the normalization that also folds case
# Unicode's Default_Ignorable_Code_Point, which NFKC_Casefold removes.
_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")


def normalize(text: str, form: str) -> str:
    """Control characters as spaces, then ``form`` (``none``, NFC, NFD, NFKC, NFKD or
    ``NFKC_Casefold``)."""
    text = re.sub(CONTROL_CHARACTERS, " ", text)
    if form == "none":
        return text
    if form != CASE_FOLD:
        return unicodedata.normalize(form, text)
    # ICU's NFKC_Casefold: NFKC, case folding and ignorables removed, until nothing changes.
    text = unicodedata.normalize("NFKC", text)
    while True:
        folded = unicodedata.normalize("NFKC", _IGNORABLE.sub("", text).casefold())
        if folded == text:
            return text
        text = folded


def is_blank(text: str) -> bool:
    """Only white space and separators (a blank line translates to a blank line)."""
    return all(c.isspace() or unicodedata.category(c).startswith("Z") for c in text)


def warn_changed(number: int, line: str, truncated: int) -> None:
    """Says how line ``number`` was changed on its way into the model: control characters read
    as spaces, and ``truncated`` source pieces cut at the length limit."""
    controls = re.findall(CONTROL_CHARACTERS, line)
    if controls:
        names = ", ".join(sorted({f"U+{ord(c):04X}" for c in controls}))
        log.warning("line %d: %d control characters (%s) read as spaces", number,
                    len(controls), names)
    if truncated:
        log.warning("line %d: too long, its last %d source pieces were not translated (the "
                    "limit is 4 x data.max_src_tokens pieces); split the line to translate all "
                    "of it", number, truncated)
