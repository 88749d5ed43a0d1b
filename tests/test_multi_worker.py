"""Two worker processes on localhost train in sync under MultiWorkerMirroredStrategy, and a
job whose worker was killed resumes when restarted."""

import glob
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from helpers import REPO, write_recipe

# What `translit train --strategy multi-worker` runs, plus a fingerprint of the final weights.
WORKER = r"""
import json, sys
import numpy as np
from translit.training.distribute import make_strategy
from translit.recipe import load_recipe
from translit.training.trainer import Trainer

trainer = Trainer(load_recipe(sys.argv[1]), sys.argv[2], make_strategy("multi-worker"))
record = trainer.train()
print(json.dumps({"chief": trainer.chief, "step": int(trainer.step),
                  "weights": [float(np.abs(w.numpy()).sum()) for w in trainer.model.weights]}))
"""

pytestmark = pytest.mark.slow  # trainings in subprocesses


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


def _start_worker(recipe, run_dir, cluster, index, tmp_path, attempt):
    """`translit train --strategy multi-worker` as worker ``index`` of ``cluster``."""
    env = {**os.environ, "PYTHONPATH": REPO, "TMPDIR": str(tmp_path),
           "TF_CONFIG": json.dumps({"cluster": cluster,
                                    "task": {"type": "worker", "index": index}})}
    log = open(tmp_path / f"worker{index}-{attempt}.log", "w+", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "translit.cli", "train", recipe, "--run-dir", run_dir,
         "--strategy", "multi-worker"],
        env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    return process, log


def _output(log):
    log.seek(0)
    return log.read()


def test_a_killed_worker_stops_the_job_with_advice_and_a_restart_resumes(tmp_path):
    recipe = write_recipe(tmp_path, train={"max_steps": 300, "checkpoint_every": 10,
                                           "log_every": 10, "eval_every": 1000})
    run_dir = str(tmp_path / "run")  # one run directory on a file system both workers share
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    (chief, chief_log), (other, _) = (_start_worker(recipe, run_dir, cluster, index, tmp_path, 1)
                                      for index in range(2))
    deadline = time.monotonic() + 300
    while not glob.glob(os.path.join(run_dir, "checkpoints", "ckpt-20.index")):
        assert chief.poll() is None, _output(chief_log)[-3000:]
        assert time.monotonic() < deadline, "no checkpoint after 300 s"
        time.sleep(0.2)
    other.send_signal(signal.SIGKILL)
    other.wait()
    chief.wait(timeout=300)  # its collective fails when the peer drops (or at the health check)
    said = _output(chief_log)
    assert chief.returncode == 1, said[-3000:]
    assert "stopped responding" in said and "same command" in said
    assert "Traceback" not in said

    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    restarted = [_start_worker(recipe, run_dir, cluster, index, tmp_path, 2) for index in range(2)]
    for process, log in restarted:
        process.wait(timeout=600)
        assert process.returncode == 0, _output(log)[-3000:]
    said = _output(restarted[0][1])
    resumed = re.search(r"resumed from .*ckpt-(\d+) at step (\d+)", said)
    assert resumed and resumed.group(1) == resumed.group(2) and int(resumed.group(1)) >= 20
    assert f"at step {resumed.group(2)}" in _output(restarted[1][1])  # the other worker too
    with open(os.path.join(run_dir, "metrics.jsonl"), encoding="utf-8") as f:
        records = [json.loads(line) for line in f]  # every line intact
    assert records[-1]["type"] == "final" and records[-1]["last_step"] == 300
    assert os.path.exists(os.path.join(run_dir, "checkpoints", "ckpt-300.index"))
    # The restarted worker cleared what the killed one left in its scratch directory.
    assert not [name for name in os.listdir(tmp_path) if name.startswith("translit-worker-")]
