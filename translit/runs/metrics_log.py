"""The training's records: one JSON line each in metrics.jsonl, their numbers as TensorBoard
scalars (``TYPE/KEY``), written by the chief only."""

from __future__ import annotations

import functools
import os

import tensorflow as tf
from tensorflow.core.framework import summary_pb2

from translit.utils.progress import timestamp
from translit.runs.directory import RunDir

# What TensorBoard's scalar summary writes; tf.summary.scalar itself needs the tensorboard package.
_SCALAR = summary_pb2.SummaryMetadata(
    plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))


class MetricsLog:
    """Writes records of a run directory.

    Args:
      run: the run directory.
      enabled: False for the workers other than the chief, which write nothing.
    """

    def __init__(self, run: RunDir, enabled: bool = True):
        self.run = run
        self.enabled = enabled

    def write(self, record: dict) -> dict:
        """Stamps ``record`` with the time and writes it. Returns it.

        Args:
          record: ``{"type": ..., "step": ..., ...}``; its int and float values become scalars.
        """
        record.setdefault("time", timestamp())
        if self.enabled:
            self.run.log_metrics(record)
            with self._writer.as_default(step=record["step"]):
                for key, value in record.items():
                    if key != "step" and isinstance(value, (int, float)):
                        tf.summary.write(f"{record['type']}/{key}", float(value),
                                         metadata=_SCALAR)
            self._writer.flush()
        return record

    @functools.cached_property
    def _writer(self):
        return tf.summary.create_file_writer(os.path.join(self.run.path, "tensorboard"))
