"""Files that appear whole or not at all."""

from __future__ import annotations

import contextlib
import os
import shutil
from typing import IO, Iterator


@contextlib.contextmanager
def atomic_path(path: str, suffix: str = ".partial") -> Iterator[str]:
    """A temporary path beside ``path`` (for a file or a directory) that is renamed to ``path``
    when the block ends; if the block raises, what was written there is removed.

    Args:
      suffix: of the temporary path (a leftover one from an interrupted run is removed first).
    """
    partial = path.rstrip("/") + suffix
    _remove(partial)
    try:
        yield partial
    except BaseException:
        _remove(partial)
        raise
    os.replace(partial, path)


@contextlib.contextmanager
def atomic_write(path: str, mode: str = "w") -> Iterator[IO]:
    """``open(path, mode)`` whose readers see the old file or the whole new one."""
    encoding = None if "b" in mode else "utf-8"
    with atomic_path(path) as partial, open(partial, mode, encoding=encoding) as f:
        yield f


def _remove(path: str) -> None:
    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.remove(path)
