"""Rule-based romanization of native-script words: dictionary pairs in a scholarly scheme.

Some people type Indic text in a scholarly romanization stripped of its diacritics, ISO 15919 or
IAST as a keyboard writes them: "pahali vatanukulita relagari bana gayi" for पहली वातानुकूलित
रेलगाड़ी बन गयी, every inherent vowel kept ("bana" for बन, "mem" for में). A model trained on
casual spellings reads them as other words (बना, मेम). ``translit corpus romanize`` writes each
word of a native-script text beside its romanization, a ``source<TAB>target`` file for
``decode.dictionary``: the word model scores these targets and the word prior and the language
model choose among them and the beam (:mod:`translit.text.dictionary`). The schemes come from
indic_transliteration (sanscript).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Dict, List, Tuple

from translit.errors import UserError

SCHEMES = {"iso15919": "iso", "iast": "iast", "hk": "hk", "itrans": "itrans",
           "velthuis": "velthuis"}  # our names -> sanscript's (imported when used: CLI start)
SCRIPTS = ("devanagari", "bengali", "gujarati", "gurmukhi", "kannada", "malayalam", "oriya",
           "tamil", "telugu")
TYPED = re.compile(r"[a-z]+")  # what a romanization must fold to (one word of ASCII letters)


def romanize(word: str, script: str = "devanagari", scheme: str = "iso15919") -> str:
    """One word in a romanization scheme, folded as typed: diacritics dropped, lower case
    ("वातानुकूलित" -> "vatanukulita"); "" when it does not fold to ASCII letters only."""
    from indic_transliteration import sanscript

    romanized = sanscript.transliterate(word, script, SCHEMES[scheme])
    folded = "".join(c for c in unicodedata.normalize("NFKD", romanized)
                     if not unicodedata.combining(c)).lower()
    return folded if TYPED.fullmatch(folded) else ""


def romanized_pairs(counts: Dict[str, int], script: str, scheme: str) -> List[Tuple[str, str]]:
    """(romanization, word) for each word of ``script`` in ``counts``, most frequent first."""
    characters = _script_characters(script)
    pairs = []
    for word, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        if any(c in characters for c in word) and (typed := romanize(word, script, scheme)):
            pairs.append((typed, word))
    return pairs


def romanize_text(text: str, output: str, script: str = "devanagari",
                  scheme: str = "iso15919") -> dict:
    """Writes ``romanization<TAB>word`` for the distinct words of a native-script text file.

    Returns:
      {"words": distinct words of the text, "pairs": lines written, "scheme", "script"}.

    Raises:
      UserError: an unreadable text (named, with the line for a non-UTF-8 one), or one with no
        word of ``script``.
    """
    from translit.data.corpus import read_lines
    from translit.text.backtranslation import write_corpus
    from translit.text.word_prior import count_words

    counts = count_words(read_lines(text))
    pairs = romanized_pairs(counts, script, scheme)
    if not pairs:
        raise UserError(f"{text}: no word in {script.capitalize()} script; --script names the "
                        "text's script")
    write_corpus(output, pairs, ())
    return {"words": len(counts), "pairs": len(pairs), "scheme": scheme, "script": script}


def _script_characters(script: str) -> frozenset:
    """The characters of an Indic script, as Unicode names them (``DEVANAGARI LETTER KA``)."""
    prefix = script.upper() + " "
    return frozenset(chr(code) for code in range(0x0900, 0x0D80)
                     if unicodedata.name(chr(code), "").startswith(prefix))
