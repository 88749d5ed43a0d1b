"""Bad input through the CLI: every mistake exits non-zero with a message naming the file, the
line or the key, and no Python traceback; what should be accepted is accepted."""

import glob
import os
import resource
import shutil
import signal
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import REPO, write_lines, write_recipe
from translit.cli import main


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
