"""``translit corpus check``: a report on a parallel corpus before training on it."""

from __future__ import annotations

import collections
from typing import Dict

from translit.data.corpus import aligned_lines

EXAMPLES = 5  # line numbers listed per finding


def check_parallel(src: str, tgt: str, max_ratio: float = 3.0) -> Dict:
    """Line counts, empty lines, length-ratio outliers and duplicates of aligned files, read as
    a stream: memory grows only by one hash per distinct pair and per distinct source, so
    corpora far larger than memory can be checked.

    Args:
      max_ratio: a pair is an outlier when one side has more than ``max_ratio`` times the
        characters of the other (both sides at least 10 characters together).
    Returns:
      A report: counts, and per finding the number of lines and the first line numbers.
    Raises:
      UserError: a file is missing or not UTF-8 (file and line named), or the line counts
        differ (both files and their counts named).
    """
    findings = _Findings()
    seen_pairs, first_target = set(), {}  # hash((source, target)); hash(source) -> hash(target)
    lines, characters = 0, [0, 0]
    for number, (source, target) in enumerate(aligned_lines(src, tgt), start=1):
        lines = number
        characters[0] += len(source)
        characters[1] += len(target)
        source, target = source.strip(), target.strip()
        if not source or not target:
            findings.add("empty_source" if not source else "empty_target", number)
            continue
        short, long_ = sorted((len(source), len(target)))
        if short + long_ >= 10 and long_ > max_ratio * short:
            findings.add("length_ratio_outliers", number)
        pair, target_hash = hash((source, target)), hash(target)
        if pair in seen_pairs:
            findings.add("duplicate_pairs", number)
        elif first_target.setdefault(hash(source), target_hash) != target_hash:
            findings.add("sources_with_several_targets", number)
        seen_pairs.add(pair)
    report = {"source": src, "target": tgt, "lines": lines,
              "source_characters": characters[0], "target_characters": characters[1]}
    for name in ("empty_source", "empty_target", "length_ratio_outliers", "duplicate_pairs",
                 "sources_with_several_targets"):
        report[name] = findings.report(name)
    return report


class _Findings:
    """How many lines each finding has, and the first :data:`EXAMPLES` of them."""

    def __init__(self):
        self.counts, self.first = collections.Counter(), collections.defaultdict(list)

    def add(self, name: str, number: int) -> None:
        self.counts[name] += 1
        if len(self.first[name]) < EXAMPLES:
            self.first[name].append(number)

    def report(self, name: str) -> Dict:
        return {"count": self.counts[name], "first_lines": list(self.first[name])}


def format_report(report: Dict) -> str:
    """The report as lines of text."""
    lines = [f"{report['source']} / {report['target']}: {report['lines']} aligned lines, "
             f"{report['source_characters']} / {report['target_characters']} characters"]
    for name, finding in report.items():
        if isinstance(finding, dict):
            where = (f" (lines {', '.join(map(str, finding['first_lines']))}"
                     f"{', ...' if finding['count'] > len(finding['first_lines']) else ''})"
                     if finding["count"] else "")
            lines.append(f"  {name.replace('_', ' ')}: {finding['count']}{where}")
    return "\n".join(lines)
