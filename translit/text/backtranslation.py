"""Synthetic training pairs from target-language text: back-translation with a reverse model
(``translit corpus backtranslate``).

A transliteration lexicon lists some ten thousand words; native-script text holds many more. A
model trained the other way (Devanagari -> Latin) writes each new word of the text as people
would type it, and the pairs it makes teach the forward model words it has never seen:

    reverse = translit.load("runs/dakshina_hi_reverse")
    backtranslate(reverse, ["दोनों", "शब्द"], n_best=3, margin=2.0)
    # [("donon", "दोनों"), ("dono", "दोनों"), ("shabd", "शब्द"), ("shabda", "शब्द")]
"""

from __future__ import annotations

import itertools
import os
from typing import Collection, Iterable, List, Optional, Tuple

from translit.data.corpus import read_lines, stream_pairs
from translit.data.words import split
from translit.errors import UserError
from translit.utils.files import atomic_write

Pair = Tuple[str, str]


def new_targets(lines: Iterable[str], known: Collection[str], unit: str,
                characters: Optional[Collection[str]]) -> List[str]:
    """The distinct units of a text that the known pairs lack, in order of first appearance.

    Args:
      lines: the text.
      known: the target side of the real pairs.
      unit: ``word`` (the words of each line, as text mode splits them) or ``line``.
      characters: the reverse model's source characters (None: any); a unit with a character
        outside them (a Latin word in Devanagari text) is left out.
    """
    seen, targets = set(known), []
    for line in lines:
        units = ([p.text for p in split(line) if p.is_word] if unit == "word"
                 else [line.strip()])
        for text in units:
            if text and text not in seen and (characters is None or set(text) <= characters):
                seen.add(text)
                targets.append(text)
    return targets


def backtranslate(model, targets: List[str], n_best: int, margin: float) -> List[Pair]:
    """(source, target) pairs: each target's back-translations whose log-probability is within
    ``margin`` of its best one (at most ``n_best``), the best first.

    Args:
      model: a :class:`translit.api.LoadedModel` of the reverse direction, ``unit="line"``.
    """
    pairs = []
    beam = max(n_best, model.beam_size)
    for target, hypotheses in zip(targets, model.translate(targets, beam=beam, n_best=n_best)):
        best = hypotheses[0].score
        pairs += [(h.text, target) for h in hypotheses if h.score >= best - margin and h.text]
    return pairs


def write_corpus(path: str, real: Iterable[Pair], synthetic: Iterable[Pair]) -> None:
    """Writes the real pairs, then the synthetic ones, as ``source<TAB>target`` lines (the
    file's directory made if missing; the file appears whole or not at all)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with atomic_write(path) as f:
        for source, target in itertools.chain(real, synthetic):
            f.write(f"{_one_field(source)}\t{_one_field(target)}\n")


def _one_field(text: str) -> str:
    return text.replace("\t", " ")


def backtranslate_corpus(model, text: str, src: str, tgt: str, output: str,
                         unit: str = "word", n_best: int = 3, margin: float = 1.0,
                         include_known: bool = False) -> dict:
    """Writes ``output``, a TSV corpus: the pairs of ``src``/``tgt``, then synthetic pairs for
    the units of ``text`` that ``tgt`` lacks (with ``include_known``, for all of them),
    back-translated by ``model``.

    Args:
      model: a :class:`translit.LoadedModel` of the reverse direction, ``unit="line"``.
    Returns: counts of the real pairs, the new units and the synthetic pairs.
    """
    real = list(stream_pairs(src, tgt))
    known = set() if include_known else {target for _, target in real}
    targets = new_targets(read_lines(text), known, unit, model.source_characters)
    if not targets:
        lacks = "" if include_known else f" that {tgt} lacks"
        raise UserError(f"{text}: no {unit}{lacks} in the characters {model.paths[0]} reads; "
                        "nothing to back-translate")
    synthetic = backtranslate(model, targets, n_best, margin)
    write_corpus(output, real, synthetic)
    return {"real_pairs": len(real), "new_units": len(targets),
            "synthetic_pairs": len(synthetic), "output": output}
