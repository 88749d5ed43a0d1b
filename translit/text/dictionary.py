"""Candidates from a dictionary of pairs: what the beam missed, scored by the model.

A word model's beam holds the spellings it learned for a source; a word typed in a casual
spelling ("me" for में) may have its standard target far down the model's list. A dictionary of
``source<TAB>target`` pairs (a lexicon, or the output of ``translit corpus backtranslate
--n-best 10 --margin 4``, which lists for every word of native-script text the ways people
would type it) adds each source's listed targets to its beam, scored by the model itself
(forced decoding, divided by the beam's length penalty), so that the word prior, the channel
model and the language model can choose them. The beam's hypotheses carry plain
log-probabilities, so the division favours a dictionary target by its length penalty; that
measured better than plain log-probabilities (benchmarks/LOG.md).
"""

from __future__ import annotations

import collections
from typing import Dict, List, Sequence

from translit.data.corpus import corpus_files, read_lines
from translit.decoding.hypothesis import Hypothesis, best_first
from translit.errors import UserError

BATCH_PAIRS = 512  # (source, target) pairs per call of the model


class Dictionary:
    """A dictionary's targets per case-folded source, and the model that scores them.

    Args:
      path: a ``source<TAB>target`` TSV file (UTF-8), or a glob pattern of several.
      scorer: a :class:`translit.decoding.likelihood.ForcedScorer` of the translating model.
      length_penalty: the beam's GNMT alpha (``decode.length_penalty``).
    """

    def __init__(self, path: str, scorer, length_penalty: float):
        self.path, self._scorer, self._alpha = path, scorer, length_penalty
        self.targets = read_pairs(path)

    def rerank(self, sources: Sequence[str], hypotheses: Sequence[Sequence[Hypothesis]],
               at_least: int = 1) -> List[List[Hypothesis]]:
        """A step of :class:`translit.text.chain.Chain`: per source, its hypotheses and its
        dictionary targets that they lack, each scored log P(target | source) / ((5 + tokens) /
        6) ** alpha, best first."""
        missing = []
        for source, hyps in zip(sources, hypotheses):
            beam = {text for text, _ in hyps}
            missing += [(source, target) for target in self.targets.get(source.casefold(), ())
                        if target not in beam]
        scored = iter(self._scorer.score_lines([s for s, _ in missing], [t for _, t in missing],
                                               BATCH_PAIRS) if missing else [])
        added = collections.defaultdict(list)
        for (source, target), (log_prob, tokens) in zip(missing, scored):
            added[source].append((target, log_prob / ((5.0 + tokens) / 6.0) ** self._alpha))
        return [best_first(list(hyps) + added.pop(source, []))
                for source, hyps in zip(sources, hypotheses)]


def read_pairs(pattern: str) -> Dict[str, List[str]]:
    """TSV files of ``source<TAB>target`` lines (a path or a glob pattern, its matches read in
    sorted order) -> the distinct targets of each case-folded source, in file order.

    Raises:
      UserError: a missing file, a non-UTF-8 line, or a line without a tab (named).
    """
    targets: Dict[str, List[str]] = collections.defaultdict(list)
    for (path,) in corpus_files(tsv=pattern):
        for number, line in enumerate(read_lines(path), start=1):
            if not line.strip():
                continue
            source, tab, target = line.rstrip("\n").partition("\t")
            if not tab or not source or not target:
                raise UserError(f"decode.dictionary: {path}, line {number}: expected "
                                f"'SOURCE<TAB>TARGET', received {line.strip()[:80]!r}")
            if target not in targets[source.casefold()]:
                targets[source.casefold()].append(target)
    return dict(targets)
