"""Training data as a stream: tf.data reads the pairs Python reads, shards split a corpus into
disjoint shares, epochs are counted on the stream, and bad data met in the middle of a training
stops it with the file and line named and a checkpoint of what was trained."""

import gzip
import json
import os
import re
import subprocess
import sys

import pytest
import tensorflow as tf
from click.testing import CliRunner
from test_multi_worker import _free_ports

from translit.cli import main
from translit.data.corpus import stream_pairs
from translit.data.pipeline import LengthLimits, Shard, data_error, evaluation_batches, text_pairs
from translit.data.tokenizers import load_tokenizers
from translit.recipe import Split, load_recipe
from translit.runs.directory import RunDir

from helpers import REPO, write_lines, write_recipe

ODD_SOURCE = ("\ufeffa b\r\n  c\u3000\n\n x\x0cy \n\u00a0\nline\u2028with a break\n\tq\t\n"
              "last without a newline")
ODD_TARGET = "A\nC\nZ\nXY\nQ\nL\nQ\nLAST\n"


def _pairs(dataset):
    return [(source.decode(), target.decode()) for source, target in dataset.as_numpy_iterator()]


@pytest.mark.parametrize("layout", ["plain", "gzip", "tsv", "glob"])
def test_the_stream_reads_the_pairs_python_reads(layout, tmp_path):
    (tmp_path / "a.src").write_text(ODD_SOURCE, encoding="utf-8", newline="")
    (tmp_path / "a.tgt").write_text(ODD_TARGET, encoding="utf-8")
    split = Split(src=str(tmp_path / "a.src"), tgt=str(tmp_path / "a.tgt"))
    if layout == "gzip":
        with gzip.open(tmp_path / "a.tgt.gz", "wt", encoding="utf-8") as f:
            f.write(ODD_TARGET)
        split.tgt += ".gz"
    elif layout == "tsv":
        (tmp_path / "a.tsv").write_text("a\tA\n\nb\tB\textra column\n  \t x\n \t\n\t\tc\tC\n",
                                        encoding="utf-8")
        split = Split(tsv=str(tmp_path / "a.tsv"))
    elif layout == "glob":
        (tmp_path / "b.src").write_text("second file\n", encoding="utf-8")
        (tmp_path / "b.tgt").write_text("SECOND FILE\n", encoding="utf-8")
        split = Split(src=str(tmp_path / "*.src"), tgt=str(tmp_path / "*.tgt"))
    expected = list(stream_pairs(split.src, split.tgt, split.tsv))
    assert len(expected) >= 2
    assert _pairs(text_pairs(split)) == expected


@pytest.mark.parametrize("files", [1, 3])
def test_shards_are_disjoint_and_cover_the_corpus(files, tmp_path):
    sources = [f"line {number}" for number in range(300)]
    targets = [source.upper() for source in sources]
    for index in range(files):
        write_lines(str(tmp_path / f"part{index}.src"), sources[index::files])
        write_lines(str(tmp_path / f"part{index}.tgt"), targets[index::files])
    split = Split(src=str(tmp_path / "part*.src"), tgt=str(tmp_path / "part*.tgt"))
    shares = [_pairs(text_pairs(split, Shard(index, 3))) for index in range(3)]
    assert all(shares)
    together = [pair for share in shares for pair in share]
    assert sorted(together) == sorted(zip(sources, targets))  # nothing twice, nothing missing


@pytest.mark.parametrize("content, message", [
    ((b"a\nb\nc\xffd\ne\n", b"A\nB\nC\nE\n"), "train.src:3: not valid UTF-8"),
    ((b"a\nb\nc\n", b"A\nB\n"), "train.tgt ends after line 2 but "),
])
def test_bad_data_in_the_stream_names_the_file_and_line(content, message, tmp_path):
    (tmp_path / "train.src").write_bytes(content[0])
    (tmp_path / "train.tgt").write_bytes(content[1])
    split = Split(src=str(tmp_path / "train.src"), tgt=str(tmp_path / "train.tgt"))
    with pytest.raises(tf.errors.InvalidArgumentError) as raised:
        _pairs(text_pairs(split))
    assert message in data_error(raised.value)


@pytest.mark.slow
def test_a_bad_line_met_while_training_stops_it_with_a_checkpoint(tmp_path):
    recipe = write_recipe(tmp_path, train_size=3000, valid_size=20,
                          train={"max_steps": 10, "shuffle_buffer": 50})
    assert CliRunner().invoke(main, ["train", recipe, "--run-dir", str(tmp_path / "run")]
                              ).exit_code == 0
    lines = (tmp_path / "train.src").read_bytes().split(b"\n")
    lines[2499] = b"caf\xe9"  # Latin-1, far into the file: met after some steps
    (tmp_path / "train.src").write_bytes(b"\n".join(lines))
    result = CliRunner().invoke(main, ["train", recipe, "--run-dir", str(tmp_path / "run"),
                                       "--set", "train.max_steps=500"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    stopped = re.search(r"train\.src:2500: not valid UTF-8.*training stopped at step (\d+), "
                        r"last checkpoint (\S+ckpt-(\d+)):", result.output)
    assert stopped, result.output
    assert 10 < int(stopped.group(1)) == int(stopped.group(3)) < 500
    assert os.path.exists(stopped.group(2) + ".index")


@pytest.mark.slow
def test_epochs_count_passes_over_the_stream(tmp_path):
    recipe = write_recipe(tmp_path, train_size=3000, valid_size=20,
                          train={"max_steps": None, "max_epochs": 3, "log_every": 1})
    result = CliRunner().invoke(main, ["train", recipe, "--run-dir", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    run = RunDir(str(tmp_path / "run"))
    epochs = [record["epoch"] for record in run.read_metrics() if record["type"] == "train"]
    assert epochs == sorted(epochs) and epochs[0] == 0 and epochs[-1] == 3
    # A pass takes about as many steps as one pass's batches (each length bucket may hold a
    # part-filled batch over into the next pass).
    loaded = load_recipe(recipe)
    one_pass = sum(1 for _ in evaluation_batches(
        loaded.data.train, load_tokenizers(loaded.tokenizer, run.tokenizer_dir),
        LengthLimits(loaded.data.max_src_tokens, loaded.data.max_tgt_tokens), 512))
    starts = [0] + [epochs.index(epoch) for epoch in (1, 2, 3)]
    assert all(abs(later - earlier - one_pass) <= 12 for earlier, later in zip(starts, starts[1:]))


# Each worker of a MultiWorkerMirroredStrategy job reads the pairs its input pipeline is given.
WORKER = r"""
import json, sys
from translit.data.pipeline import Shard, text_pairs
from translit.training.distribute import make_strategy
from translit.recipe import Split

strategy = make_strategy("multi-worker")
split = Split(src=sys.argv[1], tgt=sys.argv[2])
dataset = strategy.distribute_datasets_from_function(
    lambda context: text_pairs(split, Shard(context.input_pipeline_id,
                                            context.num_input_pipelines)).batch(1000))
pairs = [[s.decode() for s in batch.numpy()] for batch, _ in
         (strategy.experimental_local_results(b)[0] for b in dataset)]
print(json.dumps(sum(pairs, [])))
"""


@pytest.mark.slow
def test_two_workers_read_disjoint_shares_that_cover_the_corpus(tmp_path):
    sources = [f"line {number}" for number in range(400)]
    targets = [source.upper() for source in sources]
    src = write_lines(str(tmp_path / "train.src"), sources)
    tgt = write_lines(str(tmp_path / "train.tgt"), targets)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    workers = [subprocess.Popen(
        [sys.executable, "-c", WORKER, src, tgt], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, "PYTHONPATH": REPO, "TF_CONFIG": json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": index}})})
        for index in range(2)]
    outputs = [worker.communicate(timeout=300) for worker in workers]
    for worker, (_, stderr) in zip(workers, outputs):
        assert worker.returncode == 0, stderr[-3000:]
    shares = [json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in outputs]
    assert all(shares) and not set(shares[0]) & set(shares[1])
    assert sorted(shares[0] + shares[1]) == sorted(sources)
