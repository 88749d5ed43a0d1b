"""Parallel corpus readers: source and target files (plain or .gz), or TSV files.

A corpus path may be a glob pattern (``train.*.de``): its matches, sorted, are read in turn, the
n-th source file aligned with the n-th target file.
"""

from __future__ import annotations

import collections
import glob
import gzip
import itertools
import logging
import random
import sys
from dataclasses import dataclass
from typing import BinaryIO, Iterable, Iterator, List, Optional, Tuple

from translit.errors import UserError

log = logging.getLogger(__name__)


@dataclass
class ParallelCorpus:
    """Aligned sentence pairs, with the count of pairs skipped for an empty side."""

    sources: List[str]
    targets: List[str]
    skipped_empty: int = 0

    def __len__(self) -> int:
        return len(self.sources)


STDIN = "-"


def read_lines(path: Optional[str]) -> Iterator[str]:
    """The lines of a UTF-8 text file (``.gz`` is decompressed), or of stdin for None or ``-``,
    read as they are asked for.

    Lines end at ``\n`` only (CRLF accepted), in files and on stdin alike: U+2028, form feed
    and the other breaks of ``str.splitlines`` stay inside their line. A UTF-8 byte order mark
    is removed.

    Raises:
      UserError: the file is missing (at once), or cannot be read or a line is not valid UTF-8
        (as that line is reached; names file and line).
    """
    if path is None or path == STDIN:
        return _decode_lines(sys.stdin.buffer, "<stdin>")
    try:  # opened now: a missing file is named before any line is asked for
        file = (gzip.open if path.endswith(".gz") else open)(path, "rb")
    except FileNotFoundError:
        raise UserError(f"Corpus file not found: {path}") from None
    except OSError as e:
        raise UserError(f"{path}: cannot be read: {e}") from None
    return _file_lines(file, path)


def _file_lines(file: BinaryIO, path: str) -> Iterator[str]:
    with file:
        try:
            yield from _decode_lines(file, path)
        except (OSError, EOFError) as e:
            raise UserError(f"{path}: cannot be read: {e}") from None


def _decode_lines(stream: BinaryIO, name: str) -> Iterator[str]:
    """Yields the lines of a binary stream, decoded from UTF-8, without their line ends."""
    for number, raw in enumerate(stream, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise UserError(f"{name}:{number}: not valid UTF-8 (byte {e.start + 1} of the "
                            "line); convert the file to UTF-8, e.g. with iconv") from None
        yield line.rstrip("\n").rstrip("\r")


def batched(items: Iterable, size: int) -> Iterator[list]:
    """``items`` in consecutive lists of ``size`` (the last one shorter), read as needed."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def read_parallel(src: Optional[str] = None, tgt: Optional[str] = None,
                  tsv: Optional[str] = None) -> ParallelCorpus:
    """Reads a parallel corpus into memory (see :func:`stream_pairs`).

    Returns:
      The pairs in file order; pairs with an empty (or whitespace-only) side are skipped, counted
      in ``skipped_empty`` and in the log.
    Raises:
      UserError: as :func:`stream_pairs`, or no pair is left.
    """
    corpus, counts = ParallelCorpus([], []), collections.Counter()
    for source, target in stream_pairs(src, tgt, tsv, counts):
        corpus.sources.append(source)
        corpus.targets.append(target)
    corpus.skipped_empty = counts["skipped_empty"]
    if not corpus.sources:
        raise UserError(f"{corpus_name(src, tgt, tsv)}: no sentence pairs (every line is empty)")
    return corpus


def stream_pairs(src: Optional[str] = None, tgt: Optional[str] = None,
                 tsv: Optional[str] = None, counts: Optional[collections.Counter] = None
                 ) -> Iterator[Tuple[str, str]]:
    """Yields the pairs of a parallel corpus as they are read, sides stripped; at the end, logs
    how many pairs were skipped for an empty side.

    Args:
      src, tgt: aligned source and target files (or glob patterns), one sentence per line.
      tsv: instead of ``src``/``tgt``, files of ``source<TAB>target`` lines.
      counts: gets ``skipped_empty``, the number of pairs skipped.
    Raises:
      UserError: line counts differ, a TSV line has no tab, or a file cannot be read.
    """
    counts = collections.Counter() if counts is None else counts
    for files in corpus_files(src, tgt, tsv):
        for source, target in (_read_tsv(*files) if tsv is not None else aligned_lines(*files)):
            source, target = source.strip(), target.strip()
            if source and target:
                yield source, target
            else:
                counts["skipped_empty"] += 1
    if counts["skipped_empty"]:
        log.warning("%s: skipped %d pairs with an empty side", corpus_name(src, tgt, tsv),
                    counts["skipped_empty"])


def corpus_name(src: Optional[str] = None, tgt: Optional[str] = None,
                tsv: Optional[str] = None) -> str:
    """How messages name a corpus: ``SRC / TGT``, or the TSV file."""
    return tsv if tsv is not None else f"{src} / {tgt}"


def corpus_files(src: Optional[str] = None, tgt: Optional[str] = None,
                 tsv: Optional[str] = None) -> List[Tuple[str, ...]]:
    """The files of a corpus, glob patterns expanded: ``(source, target)`` pairs, or ``(tsv,)``.

    Raises:
      UserError: a pattern matches nothing, or the two sides match different numbers of files.
    """
    if tsv is not None:
        return [(path,) for path in _expand(tsv)]
    sources, targets = _expand(src), _expand(tgt)
    if len(sources) != len(targets):
        raise UserError(f"{src} matches {len(sources)} files but {tgt} matches {len(targets)}; "
                        "each source file needs its target file (paired in sorted order)")
    return list(zip(sources, targets))


def _expand(pattern: str) -> List[str]:
    if not any(char in pattern for char in "*?["):
        return [pattern]
    files = sorted(glob.glob(pattern))
    if not files:
        raise UserError(f"Corpus file not found: no file matches {pattern}")
    return files


def sample_pairs(pairs: Iterator[Tuple[str, str]], size: int, seed: int) -> List[Tuple[str, str]]:
    """At most ``size`` pairs drawn uniformly from a stream in one pass (reservoir sampling),
    in stream order when the stream is no longer than ``size``."""
    rng, sample = random.Random(seed), []
    for seen, pair in enumerate(pairs):
        if seen < size:
            sample.append(pair)
        else:
            slot = rng.randrange(seen + 1)
            if slot < size:
                sample[slot] = pair
    return sample


def aligned_lines(src: str, tgt: str) -> Iterator[tuple]:
    """Yields the (source, target) line pairs of two aligned files, read as a stream.

    Raises:
      UserError: at the end, when the line counts differ (both files named).
    """
    counts = [0, 0]
    for source, target in itertools.zip_longest(read_lines(src), read_lines(tgt)):
        counts[0] += source is not None
        counts[1] += target is not None
        if source is not None and target is not None:
            yield source, target
    if counts[0] != counts[1]:
        raise line_counts_differ(src, counts[0], tgt, counts[1])


def line_counts_differ(first: str, first_count: int, second: str, second_count: int) -> UserError:
    """The error for two files that should have one line per line of the other."""
    return UserError(f"Line counts differ: {first} has {first_count} lines, {second} has "
                     f"{second_count}; the files must be aligned line by line")


def _read_tsv(path: str) -> Iterator[tuple]:
    for number, line in enumerate(read_lines(path), start=1):
        source, sep, target = line.partition("\t")
        if not sep and line.strip():
            raise UserError(f"{path}:{number}: expected 'source<TAB>target', found no tab")
        yield source, target.split("\t")[0]
