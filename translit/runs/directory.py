"""The run directory: resolved recipe, tokenizers, checkpoints and metrics of one training run.

``translate``, ``score`` and ``export`` need nothing but it.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import logging
import os
import shutil
import socket
from typing import Iterator, List, Optional

import yaml

from translit.errors import UserError
from translit.utils.progress import timestamp
from translit.recipe import Recipe, recipe_from_dict

log = logging.getLogger(__name__)
RUNS_ROOT = "runs"
CHECKPOINT_KINDS = ("best", "latest", "average")


class RunDir:
    """Paths and files of one run directory."""

    def __init__(self, path: str):
        self.path = path
        self.recipe_path = os.path.join(path, "recipe.yaml")
        self.tokenizer_dir = os.path.join(path, "tokenizer")
        self.checkpoint_dir = os.path.join(path, "checkpoints")
        self.metrics_path = os.path.join(path, "metrics.jsonl")
        self.lock_path = os.path.join(path, "training.lock")

    def exists(self) -> bool:
        return os.path.isfile(self.recipe_path)

    def load_recipe(self) -> Recipe:
        if not os.path.isdir(self.path):
            raise UserError(f"Run directory not found: {self.path}; pass the directory that "
                            "`translit train` wrote (default runs/<recipe name>)")
        if not self.exists():
            raise UserError(f"{self.path} is not a translit run directory (no recipe.yaml)")
        with open(self.recipe_path, encoding="utf-8") as f:
            return recipe_from_dict(yaml.safe_load(f), self.recipe_path)

    def latest_checkpoint(self, kind: str = "") -> Optional[str]:
        """The newest checkpoint of the training (``kind`` ""), ``best`` or ``average``."""
        import tensorflow as tf

        return tf.train.latest_checkpoint(os.path.join(self.checkpoint_dir, kind))

    def checkpoint(self, which: Optional[str] = None) -> str:
        """Resolves a checkpoint choice to a path prefix.

        Args:
          which: ``best`` (the best by the dev metric), ``latest``, ``average`` (written by
            ``translit average``) or a checkpoint path; None: best when kept, else latest.
        """
        if which is None:
            path = self.latest_checkpoint("best") or self.latest_checkpoint()
        elif which in CHECKPOINT_KINDS:
            path = self.latest_checkpoint("" if which == "latest" else which)
        else:
            return which
        if path is None:
            hint = {"average": f"write one with `translit average {self.path}`"}.get(
                which, "train first with `translit train`")
            raise UserError(f"{self.path}: no {which or ''} checkpoint yet; {hint}".replace(
                "no  ", "no "))
        return path

    def unwritable(self, error: OSError) -> UserError:
        """The error for a run directory that cannot be written."""
        return UserError(f"{self.path}: cannot write the run directory ({error.strerror}); "
                         "choose a writable --run-dir")

    def has_checkpoint(self) -> bool:
        """Whether a training of this run ever saved weights (latest or best)."""
        import tensorflow as tf

        return any(tf.train.get_checkpoint_state(os.path.join(self.checkpoint_dir, kind))
                   for kind in ("", "best"))

    def clear(self, keep_tokenizer: bool) -> None:
        """Removes what a training wrote (a run without checkpoints starting afresh)."""
        names = ["checkpoints", "metrics.jsonl", "tensorboard", "tokenizer.tmp"]
        for name in names + ([] if keep_tokenizer else ["tokenizer"]):
            path = os.path.join(self.path, name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            elif os.path.exists(path):
                os.remove(path)

    @contextlib.contextmanager
    def training_lock(self) -> Iterator[None]:
        """Holds the run directory for one training: an exclusive ``flock`` on training.lock,
        which the system releases whenever the process ends, killed or not.

        Raises:
          UserError: another process holds it (its pid, host and start time named), or the
            directory cannot be written.
        """
        try:
            os.makedirs(self.path, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise self.unwritable(e) from None
        try:
            self._take_lock(fd)
            try:
                yield
            finally:
                os.ftruncate(fd, 0)  # released: an empty lock file
        finally:
            os.close(fd)

    def _take_lock(self, fd: int) -> None:
        """Locks the open training.lock and writes who holds it into it."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _read_all(fd) or "another process"
            raise UserError(f"{self.path} is being trained by {owner}; wait for that training to "
                            "end, or train into another --run-dir") from None
        previous = _read_all(fd)
        if previous:  # a holder that was killed leaves its line behind
            log.info("%s: taking over the lock of %s, which ended without releasing it",
                     self.path, previous)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()} on {socket.gethostname()} since "
                  f"{timestamp()}\n".encode(), 0)

    def read_metrics(self) -> List[dict]:
        """The records of metrics.jsonl (a torn last line, from a crash, is skipped)."""
        if not os.path.isfile(self.metrics_path):
            raise UserError(f"{self.metrics_path} not found; is this a run directory that has "
                            "trained?")
        records = []
        with open(self.metrics_path, encoding="utf-8") as f:
            for line in f:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return records

    def log_metrics(self, record: dict) -> None:
        """Appends one JSON line to metrics.jsonl."""
        with open(self.metrics_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def _read_all(fd: int) -> str:
    return os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()


def latest_run(root: str = RUNS_ROOT) -> str:
    """The most recently trained run directory under ``root``."""
    runs = [os.path.dirname(p) for p in glob.glob(os.path.join(root, "*", "recipe.yaml"))]
    if not runs:
        raise UserError(f"No run directory under ./{root}; train one with `translit train RECIPE` "
                        "or pass --model RUN_DIR")
    return max(runs, key=_last_change)


def _last_change(run: str) -> float:
    checkpoint_index = os.path.join(run, "checkpoints", "checkpoint")
    return os.path.getmtime(checkpoint_index if os.path.exists(checkpoint_index) else run)
