"""A recipe's stages (``needs:`` and ``then:``): planned, built in order in their own processes,
each once, and a failing stage named."""

import json
import os
import subprocess
import sys

import pytest
import yaml

from helpers import write_lines, write_recipe

pytestmark = pytest.mark.slow  # trainings in subprocesses


def _translit(*args, cwd):
    return subprocess.run([sys.executable, "-m", "translit", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def _recipe(directory, name, **keys):
    """The toy reversal recipe under ``name``, with top-level ``keys`` (needs, then) added."""
    path = write_recipe(directory, train={"max_steps": 6, "checkpoint_every": 3,
                                          "keep_checkpoints": 3})
    with open(path, encoding="utf-8") as f:
        recipe = yaml.safe_load(f)
    recipe.update(name=name, **keys)
    target = os.path.join(str(directory), f"{name}.yaml")
    with open(target, "w", encoding="utf-8") as f:
        yaml.safe_dump(recipe, f)
    return target


def test_needs_are_built_in_order_once_then_the_recipe_then_its_followers(tmp_path):
    os.makedirs(tmp_path / "dep")
    _recipe(tmp_path / "dep", "dep")
    write_lines(tmp_path / "text.deva", ["नमस्ते दुनिया"])
    main = _recipe(tmp_path, "main", needs=[
        {"train": "dep/dep.yaml"},
        {"command": "translit corpus romanize text.deva -o made/romanized.tsv",
         "creates": "made/romanized.tsv"}],
        then=[{"command": "average runs/main --last 2",
               "creates": "runs/main/checkpoints/average/checkpoint"}])

    plan = _translit("train", main, "--plan", cwd=tmp_path)
    assert plan.returncode == 0, plan.stderr
    lines = plan.stdout.splitlines()
    assert len(lines) == 4 and all(line.endswith("[to do]") for line in lines)
    assert "1/4 translit train dep/dep.yaml" in lines[0]
    assert "3/4 (this recipe) translit train" in lines[2] and "4/4 translit average" in lines[3]
    assert not os.path.exists(tmp_path / "runs")  # a plan builds nothing

    built = _translit("train", main, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout.splitlines()[-1])["run_dir"] == os.path.join("runs", "main")
    for label in ("stage 1/4 dep:", "stage 2/4 corpus romanize:", "stage 4/4 average runs/main:"):
        assert label in built.stderr
    assert "stage 3/4 main" in built.stderr  # the recipe's own progress lines name its stage
    assert (tmp_path / "made" / "romanized.tsv").read_text(encoding="utf-8").count("\t") == 2
    assert (tmp_path / "runs" / "main" / "checkpoints" / "average" / "checkpoint").exists()
    dep_metrics = tmp_path / "runs" / "dep" / "metrics.jsonl"
    before = dep_metrics.read_text(encoding="utf-8")

    again = _translit("train", main, "--plan", cwd=tmp_path)
    assert all(line.endswith("[done]") for line in again.stdout.splitlines()), again.stdout
    rerun = _translit("train", main, cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert "stage 1/4 dep: done" in rerun.stderr  # done stages are not run again
    assert "stage 1/4 dep: translit" not in rerun.stderr
    assert dep_metrics.read_text(encoding="utf-8") == before


def test_a_failing_stage_is_named_and_the_stages_before_it_kept(tmp_path):
    main = _recipe(tmp_path, "main", needs=[
        {"command": "corpus romanize missing.deva -o out.tsv", "creates": "out.tsv"}])
    result = _translit("train", main, cwd=tmp_path)
    assert result.returncode == 1
    assert "stage 1/2 corpus romanize (translit corpus romanize missing.deva -o out.tsv) " \
           "ended with exit status 1" in result.stderr
    assert "Traceback" not in result.stderr and not os.path.exists(tmp_path / "runs" / "main")


def test_recipes_that_need_each_other_are_refused(tmp_path):
    first = _recipe(tmp_path, "first", needs=[{"train": "second.yaml"}])
    _recipe(tmp_path, "second", needs=[{"train": "first.yaml"}])
    result = _translit("train", first, "--plan", cwd=tmp_path)
    assert result.returncode == 1 and "in a circle" in result.stderr, result.stderr
