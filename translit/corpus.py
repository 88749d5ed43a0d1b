"""Parallel corpus readers: a source and a target file (plain or .gz), or one TSV file."""

from __future__ import annotations

import gzip
import itertools
import logging
import sys
from dataclasses import dataclass
from typing import BinaryIO, Iterator, List, Optional

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


def read_parallel(src: Optional[str] = None, tgt: Optional[str] = None,
                  tsv: Optional[str] = None) -> ParallelCorpus:
    """Reads a parallel corpus and checks it.

    Args:
      src, tgt: aligned source and target files, one sentence per line.
      tsv: instead of ``src``/``tgt``, one file of ``source<TAB>target`` lines.
    Returns:
      The pairs in file order; pairs with an empty (or whitespace-only) side are skipped, counted
      in ``skipped_empty`` and in the log.
    Raises:
      UserError: line counts differ, a TSV line has no tab, or a file cannot be read.
    """
    if tsv is not None:
        pairs = _read_tsv(tsv)
        name = tsv
    else:
        pairs = aligned_lines(src, tgt)
        name = f"{src} / {tgt}"
    corpus = ParallelCorpus([], [])
    for source, target in pairs:
        if source.strip() and target.strip():
            corpus.sources.append(source.strip())
            corpus.targets.append(target.strip())
        else:
            corpus.skipped_empty += 1
    if corpus.skipped_empty:
        log.warning("%s: skipped %d pairs with an empty side", name, corpus.skipped_empty)
    if not corpus.sources:
        raise UserError(f"{name}: no sentence pairs (every line is empty)")
    return corpus


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
