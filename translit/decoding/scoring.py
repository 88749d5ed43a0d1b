"""Scores: sacreBLEU's BLEU, chrF and TER; exact-match accuracy, and character and word error
rates (jiwer) for transliteration; each stamped with a signature."""

from __future__ import annotations

from typing import Dict, Sequence

from translit.errors import UserError

SACREBLEU = ("bleu", "chrf", "ter")
METRICS = (*SACREBLEU, "accuracy", "cer", "wer")


def score(hypotheses: Sequence[str], references: Sequence[str],
          metrics: Sequence[str] = ("bleu", "chrf")) -> Dict[str, dict]:
    """Corpus-level scores of detokenized hypotheses against one reference each.

    Returns:
      {metric: {"score": float, "signature": str, "text": a one-line summary}}.
    """
    if len(hypotheses) != len(references):
        raise UserError(f"Received {len(hypotheses)} hypotheses and {len(references)} "
                        "references, expected the same number of lines")
    unknown = [name for name in metrics if name not in METRICS]
    if unknown:
        raise UserError(f"Unknown metric {unknown[0]!r}, expected one of {', '.join(METRICS)}")
    from sacrebleu.metrics import BLEU, CHRF, TER  # 0.3 s: not when the CLI starts

    results = {}
    for name in metrics:
        if name in SACREBLEU:
            metric = {"bleu": BLEU, "chrf": CHRF, "ter": TER}[name]()
            result = metric.corpus_score(list(hypotheses), [list(references)])
            results[name] = {"score": round(result.score, 2),
                             "signature": str(metric.get_signature()), "text": str(result)}
        else:
            results[name] = OWN_METRICS[name](hypotheses, references)
    return results


def accuracy(hypotheses: Sequence[str], references: Sequence[str]) -> dict:
    """Top-1 exact-match accuracy in percent (surrounding whitespace ignored)."""
    correct = sum(h.strip() == r.strip() for h, r in zip(hypotheses, references))
    value = round(100.0 * correct / max(len(references), 1), 2)
    return {"score": value, "signature": "accuracy|exact-match|strip|nrefs:1",
            "text": f"ACC = {value:.2f} ({correct}/{len(references)} exact matches)"}


def cer(hypotheses: Sequence[str], references: Sequence[str]) -> dict:
    """Character error rate in percent: Levenshtein edits over Unicode code points (spaces
    included, each line stripped) over the references' total length, computed by jiwer."""
    import jiwer

    edits = jiwer.process_characters(list(references), list(hypotheses))
    return _error_rate("CER", edits, "reference characters", "codepoints|strip")


def wer(hypotheses: Sequence[str], references: Sequence[str]) -> dict:
    """Word error rate in percent: Levenshtein edits over whitespace-separated words over the
    references' total number of words, computed by jiwer."""
    import jiwer

    edits = jiwer.process_words(list(references), list(hypotheses))
    return _error_rate("WER", edits, "reference words", "whitespace-words|strip")


def _error_rate(name: str, edits, unit: str, tokens: str) -> dict:
    """The score of a jiwer alignment: (substitutions + deletions + insertions) / reference
    length, in percent (0 for empty references without edits)."""
    from importlib import metadata

    errors = edits.substitutions + edits.deletions + edits.insertions
    length = edits.hits + edits.substitutions + edits.deletions
    value = round(100.0 * errors / length, 2) if length else (100.0 if errors else 0.0)
    return {"score": value,
            "signature": f"{name.lower()}|levenshtein|{tokens}|nrefs:1|"
                         f"jiwer:{metadata.version('jiwer')}",
            "text": f"{name} = {value:.2f} ({errors} edits / {length} {unit})"}


OWN_METRICS = {"accuracy": accuracy, "cer": cer, "wer": wer}  # the metrics sacreBLEU lacks
