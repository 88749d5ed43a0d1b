"""A training process killed with SIGKILL resumes from its last checkpoint when restarted."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from helpers import REPO, write_recipe

pytestmark = pytest.mark.slow  # trainings in subprocesses


def _train_command(recipe, run_dir):
    return [sys.executable, "-m", "translit.cli", "train", recipe, "--run-dir", run_dir]


def _newest_saved_step(run_dir):
    """The step of the newest checkpoint that the run's checkpoint state names (0: none yet).

    The state file is rewritten, atomically, after a checkpoint's files are complete: a kill
    between the two leaves the previous checkpoint as the newest, so waiting for an index file
    alone races with it.
    """
    try:
        with open(os.path.join(run_dir, "checkpoints", "checkpoint"), encoding="utf-8") as f:
            found = re.search(r'^model_checkpoint_path: ".*ckpt-(\d+)"', f.read(), re.M)
    except FileNotFoundError:
        return 0
    return int(found.group(1)) if found else 0


def test_killed_training_resumes_from_the_last_checkpoint(tmp_path):
    recipe = write_recipe(tmp_path, train={"max_steps": 300, "checkpoint_every": 20,
                                           "log_every": 20, "eval_every": 1000})
    run_dir = str(tmp_path / "run")
    env = {**os.environ, "PYTHONPATH": REPO}
    first = subprocess.Popen(_train_command(recipe, run_dir), env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while _newest_saved_step(run_dir) < 40:
        assert first.poll() is None, "training ended before it could be killed"
        assert time.monotonic() < deadline, "no checkpoint after 300 s"
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait()

    second = subprocess.run(_train_command(recipe, run_dir), env=env, capture_output=True,
                            text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "taking over the lock of process" in second.stderr  # the killed one never released it
    resumed = re.search(r"resumed from .*ckpt-(\d+) at step (\d+)", second.stderr)
    assert resumed and resumed.group(1) == resumed.group(2) and int(resumed.group(1)) >= 40
    assert json.loads(second.stdout.strip().splitlines()[-1])["last_step"] == 300
    with open(os.path.join(run_dir, "metrics.jsonl"), encoding="utf-8") as f:
        records = [json.loads(line) for line in f]  # every line intact
    assert records[-1]["type"] == "final" and records[-1]["last_step"] == 300
