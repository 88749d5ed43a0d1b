"""Bad input through the CLI: every mistake exits non-zero with a message naming the file, the
line or the key, and no Python traceback; what should be accepted is accepted."""

import glob
import os
import re
import resource
import shutil
import signal
import subprocess
import sys

import pytest
from click.testing import CliRunner

from translit.cli import main

from helpers import REPO, write_lines, write_recipe


def _train(recipe, run_dir, *extra):
    return CliRunner().invoke(main, ["train", recipe, "--run-dir", str(run_dir), *extra])


def _append(path, data: bytes):
    with open(path, "ab") as f:
        f.write(data)


def _mismatched(d):
    _append(d / "train.tgt", b"extra\n")
    return "Line counts differ: ", "train.src has 200 lines"


def _invalid_utf8(d):
    _append(d / "train.src", b"ab\xffcd\n")
    _append(d / "train.tgt", b"dcba\n")
    return "train.src:201: not valid UTF-8", ""


def _missing_file(d):
    os.remove(d / "valid.tgt")
    return "Corpus file not found", "valid.tgt"


BAD_CORPORA = {"mismatched line counts": _mismatched, "invalid UTF-8": _invalid_utf8,
               "missing file": _missing_file}


@pytest.mark.parametrize("name", BAD_CORPORA)
def test_bad_corpora_are_named(name, tmp_path):
    recipe = write_recipe(tmp_path, train_size=200, valid_size=20)
    messages = BAD_CORPORA[name](tmp_path)
    result = _train(recipe, tmp_path / "run")
    assert result.exit_code == 1
    assert all(m in result.output for m in messages), result.output
    assert "Traceback" not in result.output
    assert not os.path.exists(tmp_path / "run" / "checkpoints")


@pytest.mark.parametrize("setting, message", [
    ("model.unitz=3", "unknown key 'model.unitz'"),
    ("model.units=many", "model.units received 'many' (str), expected int"),
    ("train.batch_tokens=-5", "train.batch_tokens received -5, expected a value >= 1"),
    ("model.attention=luong", "model.attention received 'luong', expected one of"),
    ("decode.coverage_penalty=0.2", "decode.coverage_penalty needs attention"),
    ("model.input_feeding=true", "model.input_feeding feeds the attentional vector"),
])
def test_bad_recipe_values_are_named(setting, message, tmp_path):
    result = _train(write_recipe(tmp_path, train_size=20, valid_size=5), tmp_path / "run",
                    "--set", setting)
    assert result.exit_code == 1 and message in result.output and "toy.yaml" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_bom_crlf_blank_and_huge_lines_are_accepted(tmp_path, caplog):
    recipe = write_recipe(tmp_path, train_size=200, valid_size=20,
                          train={"max_steps": 2, "checkpoint_every": 2})
    for name in ("train.src", "train.tgt"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        (tmp_path / name).write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    _append(tmp_path / "train.src", b"\r\n   \r\n" + b"a" * 1_000_000 + b"\r\n")
    _append(tmp_path / "train.tgt", b"abc\r\nabc\r\n" + b"a" * 10 + b"\r\n")
    result = _train(recipe, tmp_path / "run")
    assert result.exit_code == 0, result.output
    assert "skipped 2 pairs with an empty side" in caplog.text
    assert "dropped 1 of 201 pairs over the length limits" in caplog.text


def test_translate_from_a_missing_run_directory(tmp_path):
    result = CliRunner().invoke(main, ["translate", "-m", str(tmp_path / "nowhere"),
                                       write_lines(tmp_path / "in.txt", ["abc"])])
    assert result.exit_code == 1 and "Run directory not found" in result.output


def _truncate_latest(run_dir):
    data = sorted(glob.glob(os.path.join(run_dir, "checkpoints", "ckpt-*.data-*")))[-1]
    with open(data, "r+b") as f:
        f.truncate(os.path.getsize(data) // 2)
    return os.path.basename(data).split(".")[0]


def test_truncated_checkpoint_is_named_and_training_falls_back(trained_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(trained_run["run_dir"], run_dir)
    shutil.rmtree(run_dir / "checkpoints" / "best")
    name = _truncate_latest(run_dir)
    result = CliRunner().invoke(main, ["translate", "-m", str(run_dir), "--checkpoint", "latest",
                                       write_lines(tmp_path / "in.txt", ["abc"])])
    assert result.exit_code == 1 and f"{name}: cannot be read" in result.output
    assert "Traceback" not in result.output
    recipe = os.path.join(trained_run["directory"], "toy.yaml")
    result = _train(recipe, run_dir, "--set", "train.max_steps=805")
    assert result.exit_code == 0, result.output  # resumed from the previous checkpoint


def _limit_file_size():
    """The child process's 'disk' takes no file over 200 kB (writes past it fail with EFBIG)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))


@pytest.mark.slow
def test_full_disk_leaves_no_partial_checkpoint(tmp_path):
    recipe = write_recipe(tmp_path, train_size=200, valid_size=20, model={"units": 128},
                          train={"max_steps": 4, "checkpoint_every": 2})
    run_dir = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "translit.cli", "train", recipe, "--run-dir", str(run_dir)],
        env={**os.environ, "PYTHONPATH": REPO}, capture_output=True, text=True, timeout=600,
        preexec_fn=_limit_file_size)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "cannot write checkpoint 2" in result.stderr and "free disk space" in result.stderr
    assert "Traceback" not in result.stderr
    assert os.listdir(run_dir / "checkpoints") == []  # nothing half-written


def test_unwritable_run_directory_is_named(tmp_path):
    recipe = write_recipe(tmp_path, train_size=20, valid_size=5)
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = _train(recipe, blocker / "run")
    assert result.exit_code == 1 and "cannot write the run directory" in result.output
    assert "Traceback" not in result.output


# Every character but "\n" at which str.splitlines() also breaks a line.
SPLITLINES_BREAKS = ["\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def test_stdin_and_files_yield_the_same_lines(trained_run, tmp_path):
    lines = [f"abc{brk}dea" for brk in SPLITLINES_BREAKS] + ["abcd", "", "hhga"]
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    path = tmp_path / "in.txt"
    path.write_bytes(data.replace(b"hhga\n", b"hhga\r\n"))  # a CRLF line too
    args = ["translate", "-m", trained_run["run_dir"]]
    from_file = CliRunner().invoke(main, [*args, str(path)])
    from_stdin = CliRunner().invoke(main, args, input=data)
    assert from_file.exit_code == 0 and from_stdin.exit_code == 0, from_stdin.output
    assert from_stdin.stdout == from_file.stdout
    assert from_stdin.stdout.split("\n")[:-1][-3:] == ["dcba", "", "aghh"]
    assert len(from_stdin.stdout.split("\n")) == len(lines) + 1


def test_inputs_changed_on_the_way_are_reported(trained_run, tmp_path, caplog):
    lines = ["abcd", "ab\x00cd", "a" * 100_000, "", "   ", "ab\tcd"]
    result = CliRunner().invoke(main, ["translate", "-m", trained_run["run_dir"],
                                       write_lines(tmp_path / "in.txt", lines)])
    assert result.exit_code == 0, result.output
    outputs = result.stdout.split("\n")[:-1]
    assert len(outputs) == len(lines) and outputs[3:5] == ["", ""]
    assert outputs[1] == outputs[5]  # a NUL reads as a space, as a tab does
    assert "line 2: 1 control characters (U+0000) read as spaces" in caplog.text
    assert "line 6: 1 control characters (U+0009) read as spaces" in caplog.text
    limit = 4 * 20  # 4 x data.max_src_tokens
    assert (f"line 3: too long, its last {100_000 - limit} source pieces were not translated"
            in caplog.text)
    assert not re.search(r"line [145]:", caplog.text)


# A line of TensorFlow's native (absl) log, "I0000 00:00:1796219173.584641  11620 port.cc:153] ..."
# (which ones a start-up writes depends on the machine: oneDNN's notice only where it is on).
NATIVE_LOG_LINE = re.compile(r"^[IWE]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] ", re.M)


def test_tensorflow_start_up_chatter_stays_out_of_the_terminal(sentencepiece_run):
    command = [sys.executable, "-m", "translit.cli", "translate", "-m",
               sentencepiece_run["run_dir"]]
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    quiet = subprocess.run(command, input="elf\n", capture_output=True, text=True, timeout=300,
                           env={**env, "PYTHONPATH": REPO})
    assert quiet.returncode == 0 and len(quiet.stdout.split("\n")) == 2, quiet.stderr
    log_line = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (INFO|WARNING) translit")
    assert all(log_line.match(line) for line in quiet.stderr.splitlines()), quiet.stderr
    verbose = subprocess.run(command[:3] + ["-v"] + command[3:], input="elf\n",
                             capture_output=True, text=True, timeout=300,
                             env={**env, "PYTHONPATH": REPO})
    assert verbose.returncode == 0 and NATIVE_LOG_LINE.search(verbose.stderr)  # -v shows them


def test_python_api_is_quiet_unless_asked(sentencepiece_run, tmp_path):
    """`translit.load(...).translate(...)` writes nothing on stderr; TF_CPP_MIN_LOG_LEVEL=0
    shows TensorFlow's start-up lines; a warning of the caller's own code still shows."""
    script = tmp_path / "app.py"
    script.write_text("import warnings\nimport translit\n"
                      f"print(translit.load({sentencepiece_run['run_dir']!r}).translate(['elf']))\n"
                      "warnings.warn('the caller warns')\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = REPO
    quiet = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                           timeout=300, env=env)
    assert quiet.returncode == 0 and quiet.stdout.startswith("['"), quiet.stderr
    assert quiet.stderr.splitlines()[-2:] == [
        f"{script}:4: UserWarning: the caller warns", "  warnings.warn('the caller warns')"]
    assert len(quiet.stderr.splitlines()) == 2, quiet.stderr
    asked = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                           timeout=300, env={**env, "TF_CPP_MIN_LOG_LEVEL": "0"})
    assert asked.returncode == 0 and NATIVE_LOG_LINE.search(asked.stderr), asked.stderr


def _keep_only(run_dir, count):
    """Makes the run's checkpoint state list only its ``count`` newest checkpoints."""
    import tensorflow as tf

    directory = str(run_dir / "checkpoints")
    paths = tf.train.get_checkpoint_state(directory).all_model_checkpoint_paths[-count:]
    tf.compat.v1.train.update_checkpoint_state(directory, paths[-1],
                                               all_model_checkpoint_paths=paths)


def test_average_works_with_its_defaults(trained_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(trained_run["run_dir"], run_dir)
    _keep_only(run_dir, 3)  # fewer than the default of 5
    result = CliRunner().invoke(main, ["average", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(str(run_dir / "checkpoints" / "average" / "ckpt-800"))
    _keep_only(run_dir, 1)
    result = CliRunner().invoke(main, ["average", str(run_dir)])
    assert result.exit_code == 1
    assert "keeps 1 checkpoints, fewer than the 2 to average" in result.output


@pytest.mark.parametrize("args, message", [
    (["-m", "RUN", "--src", "SRC", "-r", "SRC"], "--ref has no use with --model; remove it"),
    (["-m", "RUN", "--src", "SRC", "--metrics", "ter"], "--metrics has no use with --model"),
    (["-r", "SRC", "--src", "SRC"], "--src has no use without --model; remove it"),
    (["-r", "SRC", "--checkpoint", "best"], "--checkpoint has no use without --model"),
])
def test_score_rejects_options_it_would_ignore(trained_run, tmp_path, args, message):
    source = write_lines(tmp_path / "src.txt", ["abcd"])
    hypotheses = write_lines(tmp_path / "hyp.txt", ["dcba"])
    args = [trained_run["run_dir"] if a == "RUN" else source if a == "SRC" else a for a in args]
    result = CliRunner().invoke(main, ["score", hypotheses, *args])
    assert result.exit_code == 1 and message in result.output, result.output


@pytest.mark.parametrize("with_model", [False, True])
def test_score_line_count_message_names_both_files(trained_run, tmp_path, with_model):
    other = write_lines(tmp_path / "other.txt", ["abcd", "ab"])
    hypotheses = write_lines(tmp_path / "hyp.txt", ["dcba"])
    args = ["-m", trained_run["run_dir"], "--src", other] if with_model else ["-r", other]
    result = CliRunner().invoke(main, ["score", hypotheses, *args])
    assert result.exit_code == 1
    assert f"Line counts differ: {hypotheses} has 1 lines, {other} has 2" in result.output
