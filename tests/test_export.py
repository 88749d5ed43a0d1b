"""Export round trip: the SavedModel, loaded where translit cannot be imported, translates
exactly as `translit translate` does."""

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

import translit
from translit.cli import main
from translit.decoding.translator import load_translator

SOURCES = ["abcd", "hhga", "", "fed", "x" * 3000]

# Runs in a fresh interpreter, from an empty directory, without PYTHONPATH, with translit made
# unimportable: loading the export must need nothing but TensorFlow and tensorflow-text.
LOADER = r"""
import json, sys
sys.modules["translit"] = None  # any `import translit` now raises ImportError
import tensorflow as tf
import tensorflow_text  # registers the tokenizer ops
model = tf.saved_model.load(sys.argv[1])
serve = model.signatures["serving_default"]
n_best = model.signatures["n_best"]
texts = json.loads(sys.argv[2])
out = serve(texts=tf.constant(texts))
empty = serve(texts=tf.constant([], tf.string))
best = n_best(texts=tf.constant(texts[:2]))
print(json.dumps({
    "translations": [t.decode("utf-8") for t in out["translations"].numpy()],
    "scores": out["scores"].numpy().tolist(),
    "empty": list(empty["translations"].shape),
    "n_best": [[t.decode("utf-8") for t in row] for row in best["translations"].numpy()],
    "n_best_scores": best["scores"].numpy().tolist(),
}))
"""


def _export(run_dir, out_dir, beam):
    result = CliRunner().invoke(main, ["export", str(out_dir), "-m", run_dir, "--beam", str(beam)])
    assert result.exit_code == 0, result.output
    return str(out_dir)


def _load_elsewhere(export_dir, texts, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    output = subprocess.run([sys.executable, "-c", LOADER, export_dir, json.dumps(texts)],
                            cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
    assert output.returncode == 0, output.stderr[-3000:]
    return json.loads(output.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("run_fixture, texts", [
    ("trained_run", SOURCES),
    ("attention_run", SOURCES),
    ("sentencepiece_run", ["dreihundertvierundfünfzig", "", "elf", "sieben" * 400]),
    ("side_vocabularies_run", ["dreihundertvierundfünfzig", "", "elf", "sieben" * 400]),
])
def test_export_loads_without_translit_and_matches_translate(run_fixture, texts, tmp_path, request):
    run_dir = request.getfixturevalue(run_fixture)["run_dir"]
    export_dir = _export(run_dir, tmp_path / "export", beam=3)
    loaded = _load_elsewhere(export_dir, texts, tmp_path)

    translator, _ = load_translator(run_dir, beam_size=3)
    expected = translator.translate(texts)
    assert loaded["translations"] == [t.decode() for t in expected["translations"].numpy()]
    assert loaded["scores"] == pytest.approx(expected["scores"].numpy().tolist(), abs=1e-4)
    assert loaded["empty"] == [0]
    blank = texts.index("")  # a blank line stays blank, as with `translit translate`
    assert loaded["translations"][blank] == "" and loaded["scores"][blank] == 0.0
    assert all(len(row) == 3 for row in loaded["n_best"])
    assert loaded["n_best"][0][0] == loaded["translations"][0]
    assert loaded["n_best_scores"][0][0] == pytest.approx(loaded["scores"][0], abs=1e-4)

    # `translit translate --model EXPORT` gives the same lines as with the run directory.
    source = tmp_path / "in.txt"
    source.write_text("\n".join(t for t in texts if t) + "\n", encoding="utf-8")
    from_export = CliRunner().invoke(main, ["translate", str(source), "-m", export_dir])
    from_run = CliRunner().invoke(main, ["translate", str(source), "-m", run_dir, "--beam", "3"])
    assert from_export.exit_code == 0 and from_export.stdout == from_run.stdout
    n_best = [CliRunner().invoke(main, ["translate", str(source), "--n-best", "2", *args])
              for args in (["-m", export_dir], ["-m", run_dir, "--beam", "3"])]
    hypotheses = [[line.rsplit(" ||| ", 1)[0] for line in r.stdout.splitlines()] for r in n_best]
    assert hypotheses[0] == hypotheses[1] and len(hypotheses[0]) == 2 * sum(map(bool, texts))


def test_reversal_export_translates_correctly(trained_run, tmp_path):
    export_dir = _export(trained_run["run_dir"], tmp_path / "export", beam=2)
    loaded = _load_elsewhere(export_dir, ["abcd", "fed"], tmp_path)
    assert loaded["translations"] == ["dcba", "def"]
    assert all(score < 0 for score in loaded["scores"])
    for name in ("recipe.yaml", "joint.chars.json"):
        assert os.path.isfile(os.path.join(export_dir, "assets", name))
    with open(os.path.join(export_dir, "assets", "translit.json"), encoding="utf-8") as f:
        metadata = json.load(f)
    assert metadata["versions"]["translit"] == translit.__version__
    assert metadata["beam_size"] == 2 and metadata["checkpoint"].startswith("checkpoints/")
    assert translit.load(export_dir).describe()["models"][0]["versions"] == metadata["versions"]


def test_saved_model_cli_lists_the_signatures(trained_run, tmp_path):
    export_dir = _export(trained_run["run_dir"], tmp_path / "export", beam=2)
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    shown = subprocess.run([cli, "show", "--dir", export_dir, "--all"], capture_output=True,
                           text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr[-2000:]
    for expected in ("signature_def['serving_default']", "signature_def['n_best']",
                     "inputs['texts']", "outputs['translations']", "outputs['scores']",
                     "outputs['truncated_pieces']"):
        assert expected in shown.stdout


def test_export_refuses_an_existing_directory_and_beam_on_translate(trained_run, tmp_path):
    export_dir = _export(trained_run["run_dir"], tmp_path / "export", beam=2)
    again = CliRunner().invoke(main, ["export", export_dir, "-m", trained_run["run_dir"]])
    assert again.exit_code == 1 and "exists" in again.output
    source = tmp_path / "in.txt"
    source.write_text("abc\n", encoding="utf-8")
    beam = CliRunner().invoke(main, ["translate", str(source), "-m", export_dir, "--beam", "4"])
    assert beam.exit_code == 1 and "beam size was fixed" in beam.output


def test_export_of_a_missing_checkpoint_is_a_clear_error(trained_run, tmp_path):
    result = CliRunner().invoke(main, ["export", str(tmp_path / "export"), "-m",
                                       trained_run["run_dir"], "--checkpoint",
                                       str(tmp_path / "nope" / "ckpt-3")])
    assert result.exit_code == 1 and "does not hold this run's model weights" in result.output
    assert "Traceback" not in result.output and not os.path.exists(tmp_path / "export")
