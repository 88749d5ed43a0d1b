"""Native libraries' log lines kept off the user's terminal: TensorFlow's while it loads, and
SentencePiece's (inside tensorflow-text) when it loads a model. Neither honours Python's logging;
both write to file descriptor 2 directly. Errors still reach the caller as Python exceptions."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator


def quiet() -> bool:
    """Whether native log lines are to be hidden: TF_CPP_MIN_LOG_LEVEL=3, which the CLI sets
    unless ``-v``."""
    return os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "3"


@contextlib.contextmanager
def native_stderr_hidden(hide: bool = True) -> Iterator[None]:
    """While active (and ``hide``), file descriptor 2 goes to /dev/null."""
    if not hide:
        yield
        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
