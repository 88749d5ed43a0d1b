"""The CLI through click's test runner: train, translate, score, and the user's mistakes."""

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from translit.cli import main

from helpers import write_lines, write_recipe


def _invoke(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


@pytest.mark.slow
def test_train_then_translate_the_latest_run_then_score(tmp_path, monkeypatch):
    recipe = write_recipe(tmp_path, train={"max_steps": 4, "checkpoint_every": 2})
    monkeypatch.chdir(tmp_path)
    result = _invoke("train", recipe, "--set", "train.log_every=2")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert record["run_dir"] == os.path.join("runs", "toy") and record["last_step"] == 4
    assert os.path.exists("runs/toy/recipe.yaml") and os.path.isdir("runs/toy/tokenizer")

    write_lines("in.txt", ["abc", "", "hgf"])
    result = _invoke("translate", "in.txt", "-o", "out.txt", "--beam", "2")
    assert result.exit_code == 0, result.output
    with open("out.txt", encoding="utf-8") as f:
        assert len(f.read().splitlines()) == 3

    result = _invoke("translate", "--model", "runs/toy", input="abc\nde\n")
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 2


def test_translate_with_the_trained_model(trained_run, tmp_path):
    source = write_lines(tmp_path / "in.txt", ["abcd", "hhga", "fed"])
    result = _invoke("translate", source, "-m", trained_run["run_dir"], "--batch-size", "2")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["dcba", "aghh", "def"]


def test_score_prints_bleu_and_chrf_with_signatures(tmp_path):
    ref = write_lines(tmp_path / "ref.txt", ["the cat sat on the mat", "a dog barks loudly"])
    hyp = write_lines(tmp_path / "hyp.txt", ["the cat sat on the mat", "a dog barks loudly"])
    result = _invoke("score", "--ref", ref, hyp, "--json")
    scores = json.loads(result.stdout)
    assert scores["bleu"]["score"] == 100.0 and scores["chrf"]["score"] == 100.0
    assert scores["bleu"]["signature"].startswith("nrefs:1|case:mixed")
    result = _invoke("score", "-r", ref, "--metrics", "bleu,ter", input="the cat\na dog\n")
    assert result.stdout.startswith("BLEU = ") and "TER = " in result.stdout


@pytest.mark.parametrize("make_args, message", [
    (lambda d: ["train", str(d / "none.yaml")], "Recipe file not found"),
    (lambda d: ["train", write_recipe(d), "--set", "model.unitz=3"], "unknown key 'model.unitz'"),
    (lambda d: ["train", write_recipe(d), "--set", "model.units=-1"], "expected a value >= 1"),
    (lambda d: ["translate", "-m", str(d / "nowhere"), write_lines(d / "x", ["a"])],
     "Run directory not found"),
    (lambda d: ["translate", str(d / "missing.txt"), "-m", str(d)], "Corpus file not found"),
    (lambda d: ["translate", str(d / "missing.txt")], "Corpus file not found"),
    (lambda d: ["score", "-r", write_lines(d / "r", ["a", "b"]), write_lines(d / "h", ["a"])],
     "h has 1 lines"),
])
def test_user_mistakes_exit_1_with_a_message_and_no_traceback(tmp_path, make_args, message):
    result = CliRunner().invoke(main, make_args(tmp_path))
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args, message", [
    (["train", "recipe.yaml", "--strategy", "tpu"], "'tpu' is not one of 'auto', 'default'"),
    (["score", "-r", "ref.txt", "--metrics", "bleu,blue"], "'blue' is not one of bleu, chrf"),
    (["translate", "in.txt", "--beam", "0"], "0 is not in the range x>=1"),
])
def test_option_values_are_checked_by_click_before_any_work(args, message):
    result = CliRunner().invoke(main, args)  # the files named do not exist: nothing read them
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_n_best_over_the_beam_stops_translate_before_any_output(attention_run, tmp_path):
    source = write_lines(tmp_path / "in.txt", ["abcd", "fed"])
    out, plots = tmp_path / "out.txt", tmp_path / "plots"
    result = CliRunner().invoke(main, ["translate", source, "-m", attention_run["run_dir"],
                                       "--beam", "2", "--n-best", "3", "-o", str(out),
                                       "--attention-plot", str(plots)])
    assert result.exit_code == 1 and "--n-best 3 exceeds the beam size 2" in result.output
    assert not out.exists() and not plots.exists()


def test_mismatched_corpus_is_reported_by_train(tmp_path):
    recipe = write_recipe(tmp_path)
    with open(tmp_path / "train.tgt", "a", encoding="utf-8") as f:
        f.write("extra\n")
    result = CliRunner().invoke(main, ["train", recipe, "--run-dir", str(tmp_path / "run")])
    assert result.exit_code == 1 and "Line counts differ" in result.output


@pytest.mark.slow
def test_python_dash_m_runs_the_translit_command():
    result = subprocess.run([sys.executable, "-m", "translit", "train", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: translit train [OPTIONS] RECIPE")


def test_version_names_translit_tensorflow_and_keras():
    from importlib import metadata

    import translit

    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    versions = f"TensorFlow {metadata.version('tensorflow')}, Keras {metadata.version('keras')}"
    assert result.output == f"translit {translit.__version__} ({versions})\n"


def test_stages_to_build_are_refused_under_several_workers(tmp_path, monkeypatch):
    recipe = write_recipe(tmp_path)
    with open(recipe, "a", encoding="utf-8") as f:
        f.write("needs: [{command: corpus romanize t.deva -o t.tsv, creates: t.tsv}]\n")
    monkeypatch.chdir(tmp_path)
    result = _invoke("train", recipe, "--strategy", "multi-worker")
    assert result.exit_code == 1
    assert "needs stages that are not built yet" in result.output and "--plan" in result.output
