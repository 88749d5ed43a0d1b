"""Native libraries' log lines kept off the user's terminal: TensorFlow's while it loads, and
SentencePiece's (inside tensorflow-text) when it loads a model. Neither honours Python's logging;
both write to file descriptor 2 directly. Errors still reach the caller as Python exceptions.

The CLI (without ``-v``) and the Python API alike keep them quiet; a caller of the API who wants
them sets ``TF_CPP_MIN_LOG_LEVEL`` to 0, 1 or 2 before ``translit.load``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator


def quiet() -> bool:
    """Whether native log lines are to be hidden: TF_CPP_MIN_LOG_LEVEL=3, which the CLI and
    :func:`start_tensorflow` set unless ``-v`` or the caller set another level."""
    return os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "3"


def start_tensorflow(verbose: bool = False) -> None:
    """Imports TensorFlow and tensorflow-text, hiding their loading lines (the oneDNN notice,
    "Could not find cuda drivers", which ignore TF_CPP_MIN_LOG_LEVEL) unless ``verbose`` or the
    caller set TF_CPP_MIN_LOG_LEVEL below 3. Nothing happens if TensorFlow is already loaded:
    its loading lines are the importer's. Devices are not initialized here: a multi-worker
    strategy must configure them first.
    """
    if "tensorflow" in sys.modules:
        return
    # TensorFlow reads it once, at its first log line: set before the import.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if verbose else "3")
    with native_stderr_hidden(quiet()):
        import tensorflow  # noqa: F401
        import tensorflow_text  # noqa: F401  its ops' loading lines too


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
