"""The training step under MirroredStrategy on two logical CPUs equals the default strategy."""

import json
import os
import subprocess
import sys

import pytest

from helpers import REPO, write_recipe

# Logical devices must be configured before TensorFlow starts: run in a fresh interpreter.
SCRIPT = r"""
import json, sys
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from translit.recipe import load_recipe
from translit.training.trainer import Trainer

recipe_path, directory = sys.argv[1], sys.argv[2]
results = {}
for name, strategy in [("default", None),
                       ("mirrored", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))]:
    trainer = Trainer(load_recipe(recipe_path), f"{directory}/{name}", strategy)
    trainer.train()
    with open(f"{directory}/{name}/metrics.jsonl") as f:
        losses = [r["loss"] for r in map(json.loads, f) if r["type"] == "train"]
    results[name] = {"replicas": trainer.strategy.num_replicas_in_sync, "losses": losses,
                     "weights": [float(np.sum(np.abs(w.numpy()))) for w in trainer.model.weights]}
print(json.dumps(results))
"""

pytestmark = pytest.mark.slow  # trainings in subprocesses


def test_mirrored_strategy_matches_the_default_strategy(tmp_path):
    recipe = write_recipe(tmp_path, train={"max_steps": 4, "log_every": 1,
                                           "checkpoint_every": 100, "batch_tokens": 256})
    env = {**os.environ, "PYTHONPATH": REPO}
    output = subprocess.run([sys.executable, "-c", SCRIPT, recipe, str(tmp_path)], env=env,
                            capture_output=True, text=True, timeout=600)
    assert output.returncode == 0, output.stderr[-3000:]
    results = json.loads(output.stdout.strip().splitlines()[-1])
    default, mirrored = results["default"], results["mirrored"]
    assert default["replicas"] == 1 and mirrored["replicas"] == 2
    assert len(default["losses"]) == 4
    for a, b in zip(default["losses"], mirrored["losses"]):
        assert abs(a - b) < 1e-3 * max(1.0, abs(a))
    for a, b in zip(default["weights"], mirrored["weights"]):
        assert abs(a - b) < 1e-3 * max(1.0, abs(a))
