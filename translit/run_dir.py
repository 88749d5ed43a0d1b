"""The run directory: resolved recipe, tokenizers, checkpoints and metrics of one training run.

``translate``, ``score`` and ``export`` need nothing but it.
"""

from __future__ import annotations

import glob
import json
import os
from typing import Optional

import tensorflow as tf
import yaml

from translit.errors import UserError
from translit.recipe import Recipe, recipe_from_dict

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

    def log_metrics(self, record: dict) -> None:
        """Appends one JSON line to metrics.jsonl."""
        with open(self.metrics_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


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
