"""Two worker processes on localhost train in sync under MultiWorkerMirroredStrategy."""

import json
import os
import socket
import subprocess
import sys

from conftest import REPO, write_recipe

# What `translit train --strategy multi-worker` runs, plus a fingerprint of the final weights.
WORKER = r"""
import json, sys
import numpy as np
from translit.distribute import make_strategy
from translit.recipe import load_recipe
from translit.training import Trainer

trainer = Trainer(load_recipe(sys.argv[1]), sys.argv[2], make_strategy("multi-worker"))
record = trainer.train()
print(json.dumps({"chief": trainer.chief, "step": int(trainer.step),
                  "weights": [float(np.abs(w.numpy()).sum()) for w in trainer.model.weights]}))
"""


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_workers_train_in_sync_and_only_the_chief_writes(tmp_path):
    recipe = write_recipe(tmp_path, train={"max_steps": 6, "checkpoint_every": 3,
                                           "log_every": 3, "eval_every": 1000})
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    workers = []
    for index in range(2):
        env = {**os.environ, "PYTHONPATH": REPO, "TMPDIR": str(tmp_path),
               "TF_CONFIG": json.dumps({"cluster": cluster,
                                        "task": {"type": "worker", "index": index}})}
        workers.append(subprocess.Popen(
            [sys.executable, "-c", WORKER, recipe, str(tmp_path / f"run{index}")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [worker.communicate(timeout=600) for worker in workers]
    for worker, (_, stderr) in zip(workers, outputs):
        assert worker.returncode == 0, stderr[-3000:]
    chief, other = (json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in outputs)
    assert chief["chief"] and not other["chief"]
    assert chief["step"] == other["step"] == 6
    for a, b in zip(chief["weights"], other["weights"]):
        assert abs(a - b) <= 1e-5 * max(1.0, abs(a))
    assert {"checkpoint", "best"} <= set(os.listdir(tmp_path / "run0" / "checkpoints"))
    assert os.path.exists(tmp_path / "run0" / "checkpoints" / "ckpt-6.index")
    assert os.path.exists(tmp_path / "run0" / "metrics.jsonl")
    assert not os.path.exists(tmp_path / "run1")  # the other worker wrote nothing there
    assert not [name for name in os.listdir(tmp_path) if name.startswith("translit-worker-")]
