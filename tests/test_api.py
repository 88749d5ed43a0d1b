"""The Python API: ``translit.load`` on a run directory, an ensemble and an export translates as
``translit translate`` does."""

import re

import pytest
from click.testing import CliRunner

import translit
from translit.cli import main

from helpers import write_lines, write_recipe

SOURCES = ["abcd", "hhga", "", "fed"]


def _cli(tmp_path, *args):
    result = CliRunner().invoke(main, ["translate", write_lines(tmp_path / "in.txt", SOURCES),
                                       *args])
    assert result.exit_code == 0, result.output
    return result.stdout.split("\n")[:-1]


@pytest.fixture(scope="module")
def exported(trained_run, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("api") / "export")
    result = CliRunner().invoke(main, ["export", path, "-m", trained_run["run_dir"],
                                       "--beam", "3"])
    assert result.exit_code == 0, result.output
    return path


def test_a_run_directory_translates_as_the_cli_does(trained_run, tmp_path):
    model = translit.load(trained_run["run_dir"])
    assert model.kind == "run" and model.beam_size == 1
    assert model.translate(SOURCES) == _cli(tmp_path, "-m", trained_run["run_dir"])
    assert model.translate("abcd") == "dcba"  # one sentence in, one out
    best = model.translate(SOURCES, beam=3, n_best=2)
    assert [len(hyps) for hyps in best] == [2, 2, 1, 2]
    assert best[0][0].text == "dcba" and best[0][0].score > best[0][1].score
    assert best[2] == [translit.Hypothesis("", 0.0)]
    cli = _cli(tmp_path, "-m", trained_run["run_dir"], "--beam", "3", "--n-best", "2")
    assert [line.split(" ||| ")[1] for line in cli] == [h.text for hyps in best for h in hyps]


def test_an_ensemble_and_an_export_translate_as_the_cli_does(trained_run, exported, tmp_path):
    run_dir = trained_run["run_dir"]
    ensemble = translit.load([run_dir, run_dir])
    assert ensemble.kind == "ensemble"
    assert ensemble.translate(SOURCES) == _cli(tmp_path, "-m", run_dir, "-m", run_dir)
    export = translit.load(exported)
    assert export.kind == "export" and export.beam_size == 3
    assert export.translate(SOURCES) == _cli(tmp_path, "-m", exported)
    assert export.translate(SOURCES, n_best=3)[0][0].text == export.translate("abcd")


@pytest.mark.parametrize("call, message", [
    (lambda m: m.translate(["abcd", 7]), "texts[1] received int, expected str"),
    (lambda m: m.translate(["abcd"], n_best=2), "--n-best 2 exceeds the beam size 1"),
    (lambda m: m.translate(["abcd"], beam=0), "beam received 0, expected an integer >= 1"),
    (lambda m: m.attention_maps(["abcd"]), "attention plots need a model with attention"),
])
def test_mistakes_raise_user_errors(trained_run, call, message):
    with pytest.raises(translit.UserError, match=re.escape(message)):
        call(translit.load(trained_run["run_dir"]))


def test_an_export_rejects_another_beam(exported):
    model = translit.load(exported)
    with pytest.raises(translit.UserError, match="an export with beam size 3"):
        model.translate(["abcd"], beam=5)
    with pytest.raises(translit.UserError, match="translit export --beam 4"):
        model.translate(["abcd"], n_best=4)
    with pytest.raises(translit.UserError, match="is an export, whose beam size was fixed"):
        translit.load(exported, beam=2)


@pytest.mark.slow
def test_a_case_folding_model_gives_every_case_the_same_answer(tmp_path):
    """`tokenizer.normalization: NFKC_Casefold`, trained through `translit train`: "ABCD",
    "Abcd" and "abcd" are one input to the model and its export."""
    recipe = write_recipe(tmp_path, tokenizer={"type": "char", "joint": True, "vocab_size": 32,
                                               "normalization": "NFKC_Casefold"})
    run_dir = str(tmp_path / "run")
    assert CliRunner().invoke(main, ["train", recipe, "--run-dir", run_dir]).exit_code == 0
    export = str(tmp_path / "export")
    assert CliRunner().invoke(main, ["export", export, "-m", run_dir]).exit_code == 0
    for model in (translit.load(run_dir), translit.load(export)):
        outputs = model.translate(["abcd", "ABCD", "Abcd", "hhGa", "HHGA"], n_best=1)
        assert outputs[0] == outputs[1] == outputs[2] and outputs[3] == outputs[4]
