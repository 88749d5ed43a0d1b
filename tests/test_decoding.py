"""Decoding features through the CLI on the trained reversal run: n-best lists, ensembles,
forced-decoding scores, checkpoint averaging, and the transliteration metrics."""

import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from translit.cli import main
from translit.decoding.scoring import score
from translit.decoding.translator import load_model
from translit.models import trackable_weights
from translit.runs.directory import RunDir

from helpers import write_lines


def _invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result


def test_n_best_lists_k_sorted_hypotheses(trained_run, tmp_path):
    source = write_lines(tmp_path / "in.txt", ["abcde", "", "hgfa"])
    result = _invoke("translate", source, "-m", trained_run["run_dir"], "--beam", 4,
                     "--n-best", 3)
    assert result.exit_code == 0, result.output
    rows = [line.split(" ||| ") for line in result.stdout.splitlines()]
    assert [int(r[0]) for r in rows] == [0, 0, 0, 1, 2, 2, 2]
    first = rows[:3]
    assert first[0][1] == "edcba"  # the best is the 1-best translation
    # Best first by log-probability / GNMT length penalty (alpha 0.6; characters + EOS).
    ranking = [float(score) / ((5.0 + len(text) + 1) / 6.0) ** 0.6 for _, text, score in first]
    assert ranking == sorted(ranking, reverse=True) and len({r[1] for r in first}) == 3


def test_n_best_larger_than_the_beam_is_a_clear_error(trained_run, tmp_path):
    source = write_lines(tmp_path / "in.txt", ["abc"])
    result = _invoke("translate", source, "-m", trained_run["run_dir"], "--beam", 2,
                     "--n-best", 3)
    assert result.exit_code == 1 and "--n-best 3 exceeds the beam size" in result.output


def test_ensemble_of_a_run_with_itself_translates_like_the_run(trained_run, tmp_path):
    source = write_lines(tmp_path / "in.txt", ["abcdefg", "hgf", "aab"])
    run = trained_run["run_dir"]
    single = _invoke("translate", source, "-m", run, "--beam", 3)
    double = _invoke("translate", source, "-m", run, "-m", run, "--beam", 3)
    assert single.exit_code == 0 and double.exit_code == 0, double.output
    assert double.stdout == single.stdout


def test_forced_scores_prefer_the_right_translation(trained_run, tmp_path):
    sources = write_lines(tmp_path / "src.txt", ["abcd", "hgfe"])
    right = write_lines(tmp_path / "right.txt", ["dcba", "efgh"])
    wrong = write_lines(tmp_path / "wrong.txt", ["abcd", "hgfe"])
    results = {}
    for name, path in (("right", right), ("wrong", wrong)):
        result = _invoke("score", path, "-m", trained_run["run_dir"], "--src", sources, "--json")
        assert result.exit_code == 0, result.output
        results[name] = json.loads(result.stdout)
    assert all(r > w for r, w in zip(results["right"]["scores"], results["wrong"]["scores"]))
    assert results["right"]["tokens"] == 10 and results["right"]["perplexity"] < 1.5
    assert all(s <= 0 for s in results["wrong"]["scores"])


def test_forced_score_matches_the_beam_score(trained_run, tmp_path):
    sources = write_lines(tmp_path / "src.txt", ["abcdef"])
    translated = _invoke("translate", sources, "-m", trained_run["run_dir"], "--beam", 1,
                         "--n-best", 1)
    _, hypothesis, beam_score = translated.stdout.strip().split(" ||| ")
    target = write_lines(tmp_path / "hyp.txt", [hypothesis])
    scored = _invoke("score", target, "-m", trained_run["run_dir"], "--src", sources, "--json")
    assert json.loads(scored.stdout)["scores"][0] == pytest.approx(float(beam_score), abs=1e-3)


def test_score_with_model_needs_the_sources(trained_run, tmp_path):
    hyps = write_lines(tmp_path / "hyp.txt", ["abc"])
    result = _invoke("score", hyps, "-m", trained_run["run_dir"])
    assert result.exit_code == 1 and "needs --src" in result.output


def test_averaging_identical_checkpoints_is_the_identity(trained_run, tmp_path):
    run_dir = str(tmp_path / "run")
    shutil.copytree(trained_run["run_dir"], run_dir, ignore=shutil.ignore_patterns("checkpoints"))
    run = RunDir(run_dir)
    model, _ = load_model(RunDir(trained_run["run_dir"]), run.load_recipe(), "latest")
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=trackable_weights(model)),
                                         run.checkpoint_dir, max_to_keep=3)
    for step in (1, 2, 3):
        manager.save(checkpoint_number=step)
    result = _invoke("average", run_dir, "--last", 3)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(os.path.join("average", "ckpt-3"))
    averaged, _ = load_model(run, run.load_recipe(), "average")
    for a, b in zip(model.weights, averaged.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)
    result = _invoke("average", run_dir, "--last", 4)
    assert result.exit_code == 1 and "fewer than the 4 to average" in result.output


def test_accuracy_and_character_error_rate():
    results = score(["नमस्ते", "भारत", "दिल"], ["नमस्ते", "भारत", "दिलः"], ["accuracy", "cer"])
    assert results["accuracy"]["score"] == pytest.approx(66.67)
    total = len("नमस्ते") + len("भारत") + len("दिलः")  # code points
    assert results["cer"]["score"] == pytest.approx(round(100 / total, 2))


def test_word_and_character_error_rates_of_sentences():
    """WER on whitespace words, CER on code points with the spaces, both over the references'
    length; blank and extra-space lines as jiwer's defaults treat them (stripped)."""
    hypotheses = ["कुम्भ राशि मेन जन्मे", "इक जगह", " लोग  "]
    references = ["कुम्भ राशि में जन्मे", "एक जगह", "लोग"]
    results = score(hypotheses, references, ["wer", "cer"])
    assert results["wer"]["score"] == pytest.approx(round(100 * 2 / 7, 2))  # मेन, इक
    # मेन -> में (म े न -> म े ं) and इक -> एक: one substituted code point each
    characters = sum(len(r) for r in references)
    assert results["cer"]["score"] == pytest.approx(round(100 * 2 / characters, 2))
    assert results["wer"]["text"] == f"WER = {results['wer']['score']:.2f} (2 edits / 7 " \
        "reference words)"
    assert results["wer"]["signature"].startswith("wer|levenshtein|whitespace-words")


def test_score_cli_accuracy_and_cer(tmp_path):
    hyps = write_lines(tmp_path / "hyp.txt", ["abc", "abd"])
    refs = write_lines(tmp_path / "ref.txt", ["abc", "abc"])
    result = _invoke("score", hyps, "--ref", refs, "--metrics", "accuracy,cer,wer", "--json")
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert scores["accuracy"]["score"] == 50.0 and scores["cer"]["score"] == pytest.approx(16.67)
    assert scores["wer"]["score"] == 50.0
