"""`translit translate` as a stream: output in input order, window by window, the first lines
written before the last are read."""

import os
import subprocess
import sys
import threading

import pytest

import translit

from helpers import REPO, reversal_pairs


def test_output_keeps_the_order_and_appears_before_the_input_ends(trained_run):
    words, _ = reversal_pairs(200, seed=5)
    words[7], words[50] = "", "ab\x00cd"  # a blank line and a changed one, inside windows
    translate = subprocess.Popen(
        [sys.executable, "-m", "translit.cli", "translate", "-m", trained_run["run_dir"],
         "--window", "16"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": REPO})
    translate.stdin.write("".join(w + "\n" for w in words[:20]).encode())
    translate.stdin.flush()
    first = []  # the first window's 16 lines, read while the input is still open
    reader = threading.Thread(target=lambda: first.extend(
        translate.stdout.readline() for _ in range(16)))
    reader.start()
    reader.join(timeout=300)
    assert not reader.is_alive() and len(first) == 16
    translate.stdin.write("".join(w + "\n" for w in words[20:]).encode())
    translate.stdin.close()
    rest = translate.stdout.read()
    assert translate.wait(timeout=300) == 0, translate.stderr.read()[-3000:]
    outputs = b"".join(first + [rest]).decode().split("\n")[:-1]
    assert outputs == translit.load(trained_run["run_dir"]).translate(words)
    assert outputs[7] == "" and b"line 51: 1 control characters" in translate.stderr.read()


def test_windows_give_what_one_call_gives(trained_run):
    model = translit.load(trained_run["run_dir"], beam=2)
    words, _ = reversal_pairs(50, seed=6)
    windows = list(model.translate_windows(iter(words), window=16, n_best=2))
    assert [len(w) for w in windows] == [16, 16, 16, 2]
    windowed = [hyps for window in windows for hyps in window]
    whole = model.translate(words, n_best=2)
    assert [[h.text for h in hyps] for hyps in windowed] == [[h.text for h in hyps]
                                                            for hyps in whole]
    # Scores agree to rounding: a batch's size changes how its matrix products are blocked.
    assert [[h.score for h in hyps] for hyps in windowed] == [
        pytest.approx([h.score for h in hyps], abs=1e-5) for hyps in whole]


def test_corpus_check_streams_a_large_file_and_names_a_bad_line(tmp_path):
    from click.testing import CliRunner

    from translit.cli import main

    lines = [f"satz {i}".encode() for i in range(200_000)]
    (tmp_path / "big.tgt").write_bytes(b"\n".join(f"sentence {i}".encode()
                                                 for i in range(200_000)) + b"\n")
    (tmp_path / "big.src").write_bytes(b"\n".join(lines) + b"\n")
    result = CliRunner().invoke(main, ["corpus", "check", str(tmp_path / "big.src"),
                                       str(tmp_path / "big.tgt"), "--json"])
    assert result.exit_code == 0 and '"lines": 200000' in result.output, result.output
    lines[149_999] = b"caf\xe9"  # Latin-1, in the middle
    (tmp_path / "big.src").write_bytes(b"\n".join(lines) + b"\n")
    result = CliRunner().invoke(main, ["corpus", "check", str(tmp_path / "big.src"),
                                       str(tmp_path / "big.tgt")])
    assert result.exit_code == 1
    assert f"{tmp_path / 'big.src'}:150000: not valid UTF-8" in result.output
