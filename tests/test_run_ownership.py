"""A run directory belongs to one training at a time; a training stops cleanly on SIGINT and
SIGTERM; a run that never saved a checkpoint is not a trained run."""

import glob
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from translit.cli import main

from helpers import REPO, write_recipe

pytestmark = pytest.mark.slow  # trainings in subprocesses


def _start_training(recipe, run_dir, *extra):
    """A training subprocess, returned once it has saved its first checkpoint."""
    command = [sys.executable, "-m", "translit.cli", "train", recipe, "--run-dir", str(run_dir),
               "--set", "train.max_steps=100000", "--set", "train.checkpoint_every=10", *extra]
    process = subprocess.Popen(command, env={**os.environ, "PYTHONPATH": REPO},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not glob.glob(os.path.join(run_dir, "checkpoints", "ckpt-*.index")):
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "no checkpoint after 300 s"
        time.sleep(0.2)
    return process


def _stop(process, number):
    process.send_signal(number)
    out, err = process.communicate(timeout=120)
    stopped = re.search(r"stopped by (SIG\w+) at step (\d+); saved (\S+):", err)
    assert stopped, err[-3000:]
    return process.returncode, stopped, err


def test_a_second_training_is_refused_and_touches_nothing(tmp_path):
    recipe = write_recipe(tmp_path, train_size=200, valid_size=20)
    run_dir = tmp_path / "run"
    first = _start_training(recipe, run_dir)
    saved_recipe = (run_dir / "recipe.yaml").read_bytes()
    second = CliRunner().invoke(main, ["train", recipe, "--run-dir", str(run_dir),
                                       "--set", "model.units=32"])
    assert second.exit_code == 1, second.output
    assert f"{run_dir} is being trained by process {first.pid} on " in second.output
    assert "train into another --run-dir" in second.output and "Traceback" not in second.output
    assert (run_dir / "recipe.yaml").read_bytes() == saved_recipe

    code, stopped, err = _stop(first, signal.SIGTERM)  # and SIGTERM stops it cleanly
    assert code == 128 + signal.SIGTERM and stopped.group(1) == "SIGTERM"
    assert os.path.exists(stopped.group(3) + ".index") and "Traceback" not in err
    assert (run_dir / "training.lock").read_text() == ""  # released


def test_ctrl_c_finishes_the_step_saves_and_says_how_to_resume(tmp_path):
    recipe = write_recipe(tmp_path, train_size=200, valid_size=20)
    run_dir = tmp_path / "run"
    code, stopped, err = _stop(_start_training(recipe, run_dir), signal.SIGINT)
    assert code == 130 and "run the same `translit train` command to resume" in err
    assert "Traceback" not in err and "Aborted!" not in err
    step = int(stopped.group(2))
    assert stopped.group(3).endswith(f"ckpt-{step}") and os.path.exists(stopped.group(3) + ".index")
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", r["time"])
               for r in records)
    assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  train  step 10 ", err, re.MULTILINE)

    resumed = CliRunner().invoke(main, ["train", recipe, "--run-dir", str(run_dir),
                                        "--set", f"train.max_steps={step + 5}"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout.strip().splitlines()[-1])["last_step"] == step + 5


def test_a_run_that_never_saved_a_checkpoint_starts_afresh(tmp_path, caplog):
    recipe = write_recipe(tmp_path, train_size=200, valid_size=20,
                          train={"max_steps": 4, "checkpoint_every": 4})
    run_dir = tmp_path / "run"
    too_large = CliRunner().invoke(main, ["train", recipe, "--run-dir", str(run_dir),
                                          "--set", "model.embedding_dim=1000000000"])
    assert too_large.exit_code == 1, too_large.output
    assert "out of memory while building the model" in too_large.output
    assert "model.embedding_dim=1000000000" in too_large.output
    assert "Traceback" not in too_large.output

    fixed = CliRunner().invoke(main, ["train", recipe, "--run-dir", str(run_dir)])
    assert fixed.exit_code == 0, fixed.output
    assert "has no checkpoint: starting it afresh (model.embedding_dim=1000000000, the recipe " \
           "now says 32)" in caplog.text
    assert json.loads(fixed.stdout.strip().splitlines()[-1])["last_step"] == 4
