"""Checkpoint I/O in one place, with one error policy: a checkpoint that cannot be read or
written raises a :class:`UserError` naming it and saying what to do; a damaged newest one is
skipped when a training resumes."""

from __future__ import annotations

import glob
import logging
import os
import shutil
from typing import List, Optional

import tensorflow as tf

from translit.errors import UserError
from translit.models import trackable_weights

log = logging.getLogger(__name__)
# What a truncated, foreign or missing checkpoint raises on restore.
_UNREADABLE = (AssertionError, tf.errors.OpError, ValueError, IndexError)


def kept(directory: str) -> List[str]:
    """The checkpoints a ``tf.train.CheckpointManager`` keeps in ``directory``, oldest first."""
    state = tf.train.get_checkpoint_state(directory)
    return list(state.all_model_checkpoint_paths) if state else []


def restore_weights(model, path: str) -> None:
    """Loads the model weights of checkpoint ``path`` (a training's or a weights-only one).

    Raises:
      UserError: the checkpoint cannot be read or holds another model's weights.
    """
    try:
        status = tf.train.Checkpoint(model=trackable_weights(model)).restore(path)
        status.expect_partial().assert_existing_objects_matched()
    except _UNREADABLE as e:
        raise UserError(f"{path}: cannot be read or does not hold this run's model weights "
                        f"({_reason(e)}); pass another --checkpoint (best, latest, average or a "
                        "path) or train again") from None


def restore_newest(checkpoint: tf.train.Checkpoint, directory: str) -> Optional[str]:
    """Restores the newest readable checkpoint of ``directory`` into ``checkpoint``; a damaged
    one (a truncated file) is skipped with a warning.

    Returns: the restored path, None when there is no checkpoint.
    Raises:
      UserError: there are checkpoints and none can be read.
    """
    paths = kept(directory)
    for path in reversed(paths):
        try:
            checkpoint.restore(path).assert_existing_objects_matched()
        except _UNREADABLE as e:
            log.warning("%s cannot be read (%s); trying the previous checkpoint", path,
                        _reason(e))
            continue
        return path
    if paths:
        raise UserError(f"{directory}: no readable checkpoint among "
                        f"{', '.join(map(os.path.basename, paths))}; train into a new --run-dir")
    return None


def save(manager: tf.train.CheckpointManager, step: int) -> str:
    """Saves checkpoint ``step``; when the disk is full or read-only, removes its partial files
    and raises a UserError (the previous checkpoints stay valid for a resume).

    Returns: the saved path.
    """
    try:
        return manager.save(checkpoint_number=step)
    except (tf.errors.OpError, OSError) as e:
        for path in glob.glob(os.path.join(manager.directory, f"ckpt-{step}[._]*")):
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
        raise UserError(f"{manager.directory}: cannot write checkpoint {step} ({_reason(e)}); "
                        "free disk space or make the directory writable, then run the same "
                        "command again (a training resumes from its last checkpoint)") from None


def _reason(error: Exception) -> str:
    """The first line of an error's message, or its type's name when it has none."""
    text = str(getattr(error, "message", None) or error)
    return text.splitlines()[0] if text.strip() else type(error).__name__
