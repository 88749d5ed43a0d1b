"""LiteRT export: the model runs in LiteRT's interpreter with builtin operators only and gives
the n-best that `translit translate` gives; its wrapper runs without TensorFlow."""

import json
import os
import subprocess
import sys
import unicodedata

import pytest
from click.testing import CliRunner

import translit
from translit.cli import main

from helpers import REPO, write_recipe

SOURCES = ["abcd", "hhga", "", "fed", "gg", "abcdefgh", "a"]


def _export(run_dir, out_dir, *options):
    result = CliRunner().invoke(main, ["export", str(out_dir), "-m", run_dir, "--format",
                                       "litert", *options])
    assert result.exit_code == 0, result.output
    return str(out_dir)


def _same_n_best(run_dir, export_dir, texts, beam, abs_score=1e-3):
    """The export's n-best (texts, scores) against the run's at the same beam."""
    expected = translit.load(run_dir, beam=beam).translate(texts, n_best=beam)
    got = translit.load(export_dir).translate(texts, n_best=beam)
    assert [[h.text for h in hyps] for hyps in got] == [[h.text for h in hyps]
                                                         for hyps in expected]
    for hyps, expected_hyps in zip(got, expected):
        assert [h.score for h in hyps] == pytest.approx([h.score for h in expected_hyps],
                                                        abs=abs_score)


def _builtin_ops_only(model_path):
    """The operators of a .tflite file; fails on Flex (TensorFlow) or custom operators."""
    from ai_edge_litert.interpreter import Interpreter

    ops = {op["op_name"] for op in Interpreter(model_path)._get_ops_details()}
    assert not {op for op in ops if op.startswith("Flex") or op.lower().startswith("custom")}
    return ops


@pytest.mark.slow
@pytest.mark.parametrize("run_fixture", ["trained_run", "attention_run"])
def test_litert_export_gives_the_n_best_of_translate(run_fixture, tmp_path, request):
    run_dir = request.getfixturevalue(run_fixture)["run_dir"]
    export_dir = _export(run_dir, tmp_path / "litert", "--beam", "3")
    ops = _builtin_ops_only(os.path.join(export_dir, "model.tflite"))
    assert "WHILE" in ops  # the search runs inside the model
    _same_n_best(run_dir, export_dir, SOURCES, beam=3)
    config = json.load(open(os.path.join(export_dir, "translit.json"), encoding="utf-8"))
    assert config["decode"]["beam_size"] == 3 and config["source"]["type"] == "char"
    assert config["inputs"]["source_ids"]["shape"] == [1, 81]  # 4 x max_src_tokens + EOS
    assert config["outputs"]["ids"]["shape"][0] == 3
    assert config["versions"]["translit"] == translit.__version__


@pytest.mark.slow
@pytest.mark.parametrize("model, decode", [
    ({"cell": "gru", "layers": 2, "reverse_source": True, "residual": True,
      "tie_embeddings": True}, {}),
    ({"cell": "cifg", "attention": "bahdanau", "input_feeding": True}, {"coverage_penalty": 0.2}),
])
def test_every_architecture_exports_with_the_same_n_best(model, decode, tmp_path):
    """Cells, layers, reversed source, residual connections, tied embeddings, Bahdanau
    attention, input feeding and the coverage penalty, on models of 60 steps."""
    from translit.recipe import load_recipe
    from translit.training.trainer import train

    recipe = write_recipe(tmp_path, model=model, train={"max_steps": 60},
                          decode={"beam_size": 3, **decode})
    run_dir = str(tmp_path / "run")
    train(load_recipe(recipe), run_dir)
    export_dir = _export(run_dir, tmp_path / "litert")
    _builtin_ops_only(os.path.join(export_dir, "model.tflite"))
    with open(tmp_path / "valid.src", encoding="utf-8") as f:
        _same_n_best(run_dir, export_dir, f.read().splitlines()[:40], beam=3)


def test_reversal_litert_translates_from_the_cli(trained_run, tmp_path):
    export_dir = _export(trained_run["run_dir"], tmp_path / "litert", "--beam", "2")
    source = tmp_path / "in.txt"
    source.write_text("abcd\n\nfed\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["translate", str(source), "-m", export_dir])
    assert result.exit_code == 0, result.output
    assert result.stdout == "dcba\n\ndef\n"
    beam = CliRunner().invoke(main, ["translate", str(source), "-m", export_dir, "--beam", "4"])
    assert beam.exit_code == 1 and "beam size was fixed" in beam.output


@pytest.fixture(scope="module")
def quickstart_run(tmp_path_factory):
    """The quickstart recipe (SentencePiece, NFKC_Casefold), 400 steps."""
    directory = tmp_path_factory.mktemp("quickstart")
    run_dir = str(directory / "run")
    os.symlink(os.path.join(REPO, "corpora"), directory / "corpora")
    result = subprocess.run(
        [sys.executable, "-m", "translit.cli", "train",
         os.path.join(REPO, "recipes", "quickstart.yaml"), "--run-dir", run_dir,
         "--set", "train.max_steps=400", "--set", "train.eval_every=400"],
        cwd=directory, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir


@pytest.mark.slow
def test_quickstart_litert_gives_the_n_best_of_translate_on_every_test_line(quickstart_run,
                                                                            tmp_path):
    export_dir = _export(quickstart_run, tmp_path / "litert")
    _builtin_ops_only(os.path.join(export_dir, "model.tflite"))
    assert os.path.isfile(os.path.join(export_dir, "source.model"))  # SentencePiece, for apps
    with open(os.path.join(REPO, "corpora", "number_words", "test.de"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    _same_n_best(quickstart_run, export_dir, lines + ["ACHT", "Acht", "", "elf " * 200], beam=4)


# Runs in a fresh interpreter with TensorFlow made unimportable.
WITHOUT_TENSORFLOW = r"""
import json, sys
sys.modules["tensorflow"] = None  # any `import tensorflow` now raises ImportError
import translit
model = translit.load(sys.argv[1])
print(json.dumps(model.translate(json.loads(sys.argv[2]), n_best=2)))
"""


CLI_WITHOUT_TENSORFLOW = r"""
import sys
sys.modules["tensorflow"] = None
from translit.cli import main
main()
"""


@pytest.mark.slow
@pytest.mark.parametrize("run_fixture", ["sentencepiece_run", "side_vocabularies_run"])
def test_litert_export_runs_without_tensorflow(run_fixture, tmp_path, request):
    run_dir = request.getfixturevalue(run_fixture)["run_dir"]
    export_dir = _export(run_dir, tmp_path / "litert", "--beam", "2")
    texts = ["dreihundertvierundfünfzig", "", "elf"]
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as a user's
    done = subprocess.run([sys.executable, "-c", WITHOUT_TENSORFLOW, export_dir,
                           json.dumps(texts)], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr == ""  # LiteRT's delegate notes are hidden, as TensorFlow's are
    got = json.loads(done.stdout)
    expected = translit.load(run_dir, beam=2).translate(texts, n_best=2)
    assert [[text for text, _ in hyps] for hyps in got] == [[h.text for h in hyps]
                                                            for hyps in expected]
    # `translit translate -m EXPORT` too.
    source = tmp_path / "in.txt"
    source.write_text("\n".join(texts) + "\n", encoding="utf-8")
    cli = subprocess.run([sys.executable, "-c", CLI_WITHOUT_TENSORFLOW, "translate", "-m",
                          export_dir, str(source)], env=env, capture_output=True, text=True,
                         timeout=300)
    assert cli.returncode == 0, cli.stderr[-3000:]
    assert cli.stdout.splitlines() == [hyps[0].text for hyps in expected]


@pytest.mark.parametrize("quantize, largest_share", [("dynamic", 0.45), ("float16", 0.7)])
def test_quantized_exports_are_smaller_and_still_translate(quantize, largest_share, trained_run,
                                                           tmp_path):
    run_dir = trained_run["run_dir"]
    full = _export(run_dir, tmp_path / "float32", "--beam", "2")
    small = _export(run_dir, tmp_path / quantize, "--beam", "2", "--quantize", quantize)
    _builtin_ops_only(os.path.join(small, "model.tflite"))
    sizes = [os.path.getsize(os.path.join(path, "model.tflite")) for path in (full, small)]
    assert sizes[1] < largest_share * sizes[0]
    assert translit.load(small).translate(["abcd", "fedcb"]) == ["dcba", "bcdef"]
    assert json.load(open(os.path.join(small, "translit.json")))["quantize"] == quantize


def test_long_lines_and_unknown_characters_are_handled_as_translate_does(trained_run, tmp_path,
                                                                         caplog):
    export_dir = _export(trained_run["run_dir"], tmp_path / "litert", "--beam", "2")
    texts = ["abc" * 40, "ab\x07c", "xyz€"]  # 120 characters (the limit is 80), BEL, unknowns
    with caplog.at_level("WARNING"):
        _same_n_best(trained_run["run_dir"], export_dir, texts, beam=2)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert sum("line 1: too long, its last 40 source pieces" in w for w in warnings) == 2
    assert sum("line 2: 1 control characters (U+0007)" in w for w in warnings) == 2


def test_export_options_that_do_not_fit_are_clear_errors(trained_run, tmp_path):
    run_dir = trained_run["run_dir"]
    saved_model = CliRunner().invoke(main, ["export", str(tmp_path / "a"), "-m", run_dir,
                                            "--quantize", "dynamic"])
    assert saved_model.exit_code == 1 and "--quantize applies to --format litert" in \
        saved_model.output
    export_dir = _export(run_dir, tmp_path / "litert")
    again = CliRunner().invoke(main, ["export", export_dir, "-m", run_dir, "--format", "litert"])
    assert again.exit_code == 1 and "exists" in again.output
    served = CliRunner().invoke(main, ["serve", "-m", export_dir, "--port", "0"])
    assert served.exit_code == 1 and "is a LiteRT export" in served.output


def test_an_operator_outside_the_builtins_is_named():
    import tensorflow as tf

    from translit.errors import UserError
    from translit.export.litert import convert

    module = tf.Module()
    module.scale = tf.Variable(2.0)

    @tf.function(input_signature=[tf.TensorSpec([3], tf.float32)])
    def needs_flex(x):
        return {"y": tf.math.bessel_i0e(x) * module.scale}

    with pytest.raises(UserError, match=r"cannot lower .*BesselI0e"):
        convert(needs_flex.get_concrete_function(), module)


def test_python_normalization_matches_the_graphs_case_folding():
    """The wrapper folds case in Python, as the tokenizers do in-graph with ICU: every
    assigned code point of Python's Unicode version gives the same text."""
    import tensorflow_text as tf_text

    from translit.data.text_rules import normalize

    characters = [chr(c) for c in range(0x20, 0x30000)
                  if unicodedata.category(chr(c)) not in ("Cn", "Cs", "Co", "Cc")]
    folded = [t.decode("utf-8") for t in tf_text.case_fold_utf8(characters).numpy()]
    assert [normalize(c, "NFKC_Casefold") for c in characters] == folded
