"""Running text through a model trained on words (``decode.unit: word``).

Each distinct word of a batch of lines (as :func:`translit.data.words.split` finds them) is
transliterated once, case folded, in one batched call of the word model; the rest of the line is
kept, and the words' choices are joined back into it.
"""

from __future__ import annotations

import logging
from typing import Callable, Collection, Dict, List, Optional, Sequence, Tuple

from translit.data.words import Piece, split
from translit.errors import UserError

log = logging.getLogger(__name__)


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
