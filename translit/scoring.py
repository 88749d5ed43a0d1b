"""Scores: sacreBLEU's BLEU, chrF and TER, and word accuracy and character error rate for
transliteration, each stamped with a signature."""

from __future__ import annotations

from typing import Dict, Sequence

from translit.errors import UserError

SACREBLEU = ("bleu", "chrf", "ter")
METRICS = (*SACREBLEU, "accuracy", "cer")


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
            results[name] = (accuracy if name == "accuracy" else cer)(hypotheses, references)
    return results


def accuracy(hypotheses: Sequence[str], references: Sequence[str]) -> dict:
    """Top-1 exact-match accuracy in percent (surrounding whitespace ignored)."""
    correct = sum(h.strip() == r.strip() for h, r in zip(hypotheses, references))
    value = round(100.0 * correct / max(len(references), 1), 2)
    return {"score": value, "signature": "accuracy|exact-match|strip|nrefs:1",
            "text": f"ACC = {value:.2f} ({correct}/{len(references)} exact matches)"}


def cer(hypotheses: Sequence[str], references: Sequence[str]) -> dict:
    """Character error rate in percent: Levenshtein edits (Unicode code points) over the
    references' total length, computed with ``tf.edit_distance``."""
    import tensorflow as tf

    def chars(texts):
        return tf.strings.unicode_split([t.strip() for t in texts], "UTF-8").to_sparse()

    edits = tf.reduce_sum(tf.edit_distance(chars(hypotheses), chars(references), normalize=False))
    length = sum(len(r.strip()) for r in references)
    value = round(100.0 * float(edits) / max(length, 1), 2)
    return {"score": value, "signature": "cer|levenshtein|codepoints|strip|nrefs:1",
            "text": f"CER = {value:.2f} ({int(edits)} edits / {length} reference characters)"}
