"""``translit corpus check``: a report on a parallel corpus before training on it."""

from __future__ import annotations

import collections
import itertools
from typing import Dict, List

from translit.corpus import line_counts_differ, read_lines

EXAMPLES = 5  # line numbers listed per finding


def check_parallel(src: str, tgt: str, max_ratio: float = 3.0) -> Dict:
    """Line counts, empty lines, length-ratio outliers and duplicates of aligned files.

    Args:
      max_ratio: a pair is an outlier when one side has more than ``max_ratio`` times the
        characters of the other (both sides at least 10 characters together).
    Returns:
      A report: counts, and per finding the number of lines and the first line numbers.
    Raises:
      UserError: a file is missing or not UTF-8 (file and line named), or the line counts
        differ (the first line numbers past the shorter file named).
    """
    sources, targets = list(read_lines(src)), list(read_lines(tgt))
    if len(sources) != len(targets):
        raise line_counts_differ(src, len(sources), tgt, len(targets))
    findings = collections.defaultdict(list)
    seen_pairs, first_target = set(), {}
    for number, (source, target) in enumerate(zip(sources, targets), start=1):
        source, target = source.strip(), target.strip()
        if not source or not target:
            findings["empty_source" if not source else "empty_target"].append(number)
            continue
        short, long_ = sorted((len(source), len(target)))
        if short + long_ >= 10 and long_ > max_ratio * short:
            findings["length_ratio_outliers"].append(number)
        if (source, target) in seen_pairs:
            findings["duplicate_pairs"].append(number)
        elif first_target.setdefault(source, target) != target:
            findings["sources_with_several_targets"].append(number)
        seen_pairs.add((source, target))
    report = {"source": src, "target": tgt, "lines": len(sources),
              "source_characters": sum(map(len, sources)),
              "target_characters": sum(map(len, targets))}
    for name in ("empty_source", "empty_target", "length_ratio_outliers", "duplicate_pairs",
                 "sources_with_several_targets"):
        lines: List[int] = findings.get(name, [])
        report[name] = {"count": len(lines), "first_lines": list(itertools.islice(lines, EXAMPLES))}
    return report


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
