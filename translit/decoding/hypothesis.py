"""The one type of a scored text: a translation, a candidate word, a chosen word."""

from typing import List, NamedTuple


class Hypothesis(NamedTuple):
    """One translation and its log-probability, or its combined score (higher is better)."""

    text: str
    score: float


def best_first(hypotheses) -> List[Hypothesis]:
    """(text, score) pairs as :class:`Hypothesis`, highest score first (ties keep their order)."""
    return sorted((Hypothesis(*h) for h in hypotheses), key=lambda h: -h.score)
