"""What a user sees: TensorBoard event files with the expected tags, `translit plot` curves and
`translit translate --attention-plot` heatmaps as valid PNG files."""

import glob
import os
import struct

import tensorflow as tf
from click.testing import CliRunner

from translit.cli import main

from helpers import write_lines


def _png_size(path):
    with open(path, "rb") as f:
        header = f.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and header[12:16] == b"IHDR"
    return struct.unpack(">II", header[16:24])


def _tags(run_dir):
    tags = set()
    for path in glob.glob(os.path.join(run_dir, "tensorboard", "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags.update(value.tag for value in event.summary.value)
    return tags


def test_tensorboard_has_training_and_dev_scalars(attention_run):
    tags = _tags(attention_run["run_dir"])
    assert {"train/loss", "train/learning_rate", "train/grad_norm", "train/target_tokens_per_s",
            "eval/valid_loss", "eval/valid_bleu", "eval/valid_accuracy",
            "final/test_accuracy"} <= tags, tags


def test_plot_writes_a_png_of_the_curves(attention_run, tmp_path):
    output = str(tmp_path / "curves.png")
    result = CliRunner().invoke(main, ["plot", attention_run["run_dir"], "-o", output])
    assert result.exit_code == 0, result.output
    assert _png_size(output) == (1200, 450)


def test_plot_of_a_missing_run_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["plot", str(tmp_path / "nowhere")])
    assert result.exit_code == 1 and "Run directory not found" in result.output


def test_attention_plot_writes_one_heatmap_per_sentence(attention_run, tmp_path):
    source = write_lines(tmp_path / "in.txt", ["abcdefg", "", "hgf"])
    plots = tmp_path / "attention"
    result = CliRunner().invoke(main, ["translate", source, "-m", attention_run["run_dir"],
                                       "--attention-plot", str(plots)])
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(plots)) == ["1.png", "3.png"]  # blank line 2: nothing to plot
    first, third = _png_size(plots / "1.png"), _png_size(plots / "3.png")
    assert first[0] > third[0] and first[1] > third[1]  # 8 x 8 pieces against 4 x 4


def test_attention_plot_needs_an_attention_model(trained_run, tmp_path):
    source = write_lines(tmp_path / "in.txt", ["abc"])
    result = CliRunner().invoke(main, ["translate", source, "-m", trained_run["run_dir"],
                                       "--attention-plot", str(tmp_path / "plots")])
    assert result.exit_code == 1 and "need a model with attention" in result.output
