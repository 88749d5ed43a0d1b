"""Choosing the tf.distribute strategy, and which worker writes the run directory."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from typing import TYPE_CHECKING

from translit.errors import UserError

if TYPE_CHECKING:  # TensorFlow is imported by make_strategy, not by the CLI's option choices
    import tensorflow as tf

log = logging.getLogger(__name__)
STRATEGIES = ("auto", "default", "mirrored", "multi-worker")


def cluster_from_env() -> dict:
    """The ``cluster`` of the ``TF_CONFIG`` environment variable ({} when unset)."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return {}
    try:
        return json.loads(raw).get("cluster") or {}
    except (json.JSONDecodeError, AttributeError):
        raise UserError("TF_CONFIG is not a JSON object with 'cluster' and 'task': "
                        f"{raw!r}") from None


def make_strategy(name: str = "auto") -> tf.distribute.Strategy:
    """Returns the strategy ``name`` asks for.

    ``auto`` takes ``MultiWorkerMirroredStrategy`` when TF_CONFIG names a cluster,
    ``MirroredStrategy`` when more than one GPU is visible, and the default strategy otherwise.
    """
    import tensorflow as tf

    if name not in STRATEGIES:
        raise UserError(f"--strategy received {name!r}, expected one of {', '.join(STRATEGIES)}")
    cluster = cluster_from_env()
    if name == "auto":
        gpus = tf.config.list_physical_devices("GPU")
        name = "multi-worker" if cluster else "mirrored" if len(gpus) > 1 else "default"
    if name == "multi-worker":
        if not cluster:
            raise UserError("--strategy multi-worker needs TF_CONFIG naming the cluster, e.g. "
                            '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                            '"task": {"type": "worker", "index": 0}}')
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    elif name == "mirrored":
        strategy = tf.distribute.MirroredStrategy()
    else:
        strategy = tf.distribute.get_strategy()
    log.info("strategy %s with %d replicas", type(strategy).__name__,
             strategy.num_replicas_in_sync)
    return strategy


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """The chief writes the run directory: task ``chief``, or ``worker`` 0 when there is none."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or resolver.task_type is None:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def worker_scratch_dir(strategy: tf.distribute.Strategy, run_dir: str) -> str:
    """An empty directory where a non-chief worker writes what MWMS makes every worker write.

    Its name depends only on the task and the run directory, so a restarted worker clears what
    its killed predecessor left there.
    """
    resolver = strategy.cluster_resolver
    digest = hashlib.sha1(os.path.abspath(run_dir).encode("utf-8")).hexdigest()[:10]
    path = os.path.join(tempfile.gettempdir(),
                        f"translit-worker-{resolver.task_type}{resolver.task_id}-{digest}")
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def num_workers(strategy: tf.distribute.Strategy) -> int:
    """Machines (processes) taking part: 1 unless a cluster resolver says otherwise."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or resolver.task_type is None:
        return 1
    spec = resolver.cluster_spec().as_dict()
    return sum(len(spec.get(kind, [])) for kind in ("chief", "worker"))
