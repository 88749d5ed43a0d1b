"""Checkpoint averaging: the mean of a run's last checkpoints' weights, often better than any
one of them (the last N checkpoints of one run, as in Vaswani et al. 2017)."""

from __future__ import annotations

import os
from typing import Optional

import numpy as np
import tensorflow as tf

from translit.decoding.translator import load_model
from translit.errors import UserError
from translit.models import trackable_weights
from translit.runs import checkpoints
from translit.runs.directory import RunDir

DEFAULT_LAST = 5


def average_checkpoints(run_dir: str, last: Optional[int] = None) -> str:
    """Averages the model weights of the run's ``last`` newest kept checkpoints.

    Args:
      last: how many; None: up to :data:`DEFAULT_LAST`, as many as the run keeps (at least 2).

    Returns: the averaged checkpoint's path, ``RUN/checkpoints/average/ckpt-STEP`` (STEP of
    the newest one), which ``--checkpoint average`` selects.
    """
    run = RunDir(run_dir)
    recipe = run.load_recipe()
    kept = checkpoints.kept(run.checkpoint_dir)
    wanted = last or min(max(len(kept), 2), DEFAULT_LAST)
    if len(kept) < wanted:
        raise UserError(f"{run_dir} keeps {len(kept)} checkpoints, fewer than the {wanted} to "
                        "average; pass a smaller --last, keep more (train.keep_checkpoints) or "
                        "train longer")
    paths = kept[-wanted:]
    model, _ = load_model(run, recipe, paths[-1])
    total = [np.zeros(w.shape, np.float64) for w in model.weights]
    for path in paths:
        checkpoints.restore_weights(model, path)
        total = [t + w.numpy() for t, w in zip(total, model.weights)]
    for weight, summed in zip(model.weights, total):
        weight.assign((summed / len(paths)).astype(weight.dtype))
    step = paths[-1].rsplit("-", 1)[1]
    target = os.path.join(run.checkpoint_dir, "average")
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=trackable_weights(model)),
                                         target, max_to_keep=1)
    return checkpoints.save(manager, int(step))
