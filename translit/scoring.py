"""Scores with sacreBLEU (BLEU, chrF, TER), each stamped with its signature."""

from __future__ import annotations

from typing import Dict, Sequence

from sacrebleu.metrics import BLEU, CHRF, TER

from translit.errors import UserError

METRICS = {"bleu": BLEU, "chrf": CHRF, "ter": TER}


def score(hypotheses: Sequence[str], references: Sequence[str],
          metrics: Sequence[str] = ("bleu", "chrf")) -> Dict[str, dict]:
    """Corpus-level scores of detokenized hypotheses against one reference each.

    Returns:
      {metric: {"score": float, "signature": str, "text": sacreBLEU's one-line summary}}.
    """
    if len(hypotheses) != len(references):
        raise UserError(f"Received {len(hypotheses)} hypotheses and {len(references)} "
                        "references, expected the same number of lines")
    results = {}
    for name in metrics:
        if name not in METRICS:
            raise UserError(f"Unknown metric {name!r}, expected one of {', '.join(METRICS)}")
        metric = METRICS[name]()
        result = metric.corpus_score(list(hypotheses), [list(references)])
        results[name] = {"score": round(result.score, 2), "signature": str(metric.get_signature()),
                         "text": str(result)}
    return results
