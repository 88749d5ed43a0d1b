"""The noisy channel: a beam reranked by a model of the reverse direction.

Each hypothesis y of a source x gains ``weight`` × log P_reverse(x | y): how likely a model
trained from the target script to the source script (a ``recipes/*_reverse.yaml`` run) is to
write x for y. Bayes' rule, P(y | x) ∝ P(x | y) P(y), with the word prior and the language model
as P(y): a frequent word typed in a casual spelling ("me" for में, "hai" for हैं) is ranked low by
the forward model, which learned careful spellings ("mein", "hain"), but the reverse model gives
"me" a fair share of में's romanizations.
"""

from __future__ import annotations

from typing import List, Sequence

from translit.decoding.hypothesis import Hypothesis, best_first
from translit.errors import UserError
from translit.runs.directory import RunDir

BATCH_PAIRS = 512  # (hypothesis, source) pairs per call of the reverse model


class ChannelModel:
    """A translation run of the reverse direction loaded to score sources given hypotheses.

    Args:
      run_dir: a run whose sources are the forward model's targets and whose targets are its
        sources (for Hindi transliteration, Devanagari -> Latin).
      weight: of log P_reverse(source | hypothesis) in the ranking.
      top: the hypotheses scored per source, the first of each list (0: all).
    """

    def __init__(self, run_dir: str, weight: float, top: int = 0):
        from translit.decoding.likelihood import ForcedScorer
        from translit.decoding.translator import load_model

        run = RunDir(run_dir)
        try:
            recipe = run.load_recipe()
        except UserError as e:
            raise UserError(f"decode.channel (--channel): {e}; train the reverse model first "
                            "(recipes/*_reverse.yaml)") from None
        if recipe.model.kind == "lm":
            raise UserError(f"decode.channel (--channel): {run_dir} is a language model; the "
                            "channel is a translation model of the reverse direction (target "
                            "script -> source script)")
        model, tokenizers = load_model(run, recipe)
        self._scorer = ForcedScorer(model, *tokenizers,
                                    max_source_tokens=recipe.data.max_translate_tokens)
        self.weight, self.path, self.top = weight, run_dir, top

    def rerank(self, sources: Sequence[str], hypotheses: Sequence[Sequence[Hypothesis]],
               at_least: int = 1) -> List[List[Hypothesis]]:
        """A step of :class:`translit.text.chain.Chain`: per source, the first ``top`` (or
        ``at_least``, if more) of its hypotheses, best first, each with ``weight`` × log
        P_reverse(source | text) added, sorted by the new scores."""
        keep = max(self.top, at_least) if self.top else None
        kept = [list(hyps[:keep]) for hyps in hypotheses]
        pairs = [(text, source) for source, hyps in zip(sources, kept) for text, _ in hyps]
        scored = iter(self._scorer.score_lines([text for text, _ in pairs],
                                               [source for _, source in pairs], BATCH_PAIRS))
        return [best_first((text, score + self.weight * next(scored)[0]) for text, score in hyps)
                for hyps in kept]
