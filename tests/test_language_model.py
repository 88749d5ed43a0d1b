"""Word-level language models (model.kind: lm): trained with `translit train`, used by a word
model in text mode to choose each word in the context of the words before it."""

import json
import os
import random

import pytest
import yaml
from click.testing import CliRunner

import translit
from translit.cli import main

from helpers import copy_run_with_decode, write_lines

NUMBERS = "ek do teen char paanch chhah saat aath".split()


def counting(count, seed):
    """Sentences that count on from a random number: after the first word, each is certain."""
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        first, length = rng.randrange(8), rng.randint(3, 7)
        lines.append(" ".join(NUMBERS[(first + k) % 8] for k in range(length)) + ".")
    return lines


def train_lm(directory, lines, steps=200):
    """Trains a word-level LM on ``lines`` with `translit train`. Returns its run directory."""
    text = write_lines(os.path.join(directory, "text.txt"), lines)
    recipe = {"name": "lm",
              "data": {"train": {"text": text}, "valid": {"text": text},
                       "max_src_tokens": 20, "max_tgt_tokens": 20},
              "tokenizer": {"type": "word", "vocab_size": 40},
              "model": {"kind": "lm", "embedding_dim": 32, "units": 64, "layers": 1,
                        "dropout": 0.0},
              "train": {"batch_tokens": 512, "max_steps": steps, "learning_rate": 0.01,
                        "label_smoothing": 0.0, "eval_every": steps, "log_every": 100,
                        "valid_metric": "loss"}}
    path = os.path.join(directory, "lm.yaml")
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(recipe, f)
    run_dir = os.path.join(directory, "run")
    result = CliRunner().invoke(main, ["train", path, "--run-dir", run_dir])
    assert result.exit_code == 0, result.output
    return run_dir


@pytest.mark.slow
def test_a_language_model_learns_a_toy_language(tmp_path):
    run_dir = train_lm(str(tmp_path), counting(2000, seed=1))
    with open(os.path.join(run_dir, "metrics.jsonl"), encoding="utf-8") as f:
        final = [json.loads(line) for line in f if '"final"' in line][-1]
    # The first word is one of 8 (log 8 = 2.08 nats), the rest certain but for the end: the
    # best possible mean over about 6 tokens a sentence is near 0.6 nats, perplexity 1.8.
    assert final["valid_perplexity"] < 2.2
    with open(os.path.join(run_dir, "tokenizer", "joint.words.json"), encoding="utf-8") as f:
        vocabulary = json.load(f)  # punctuation left out, every word kept
    assert sorted(vocabulary["words"]) == sorted(NUMBERS) and vocabulary["unknown_types"] == 0
    source = write_lines(tmp_path / "in.txt", ["ek do"])
    refused = CliRunner().invoke(main, ["translate", source, "-m", run_dir])
    assert refused.exit_code == 1 and "is a language model" in refused.output


def test_words_outside_the_vocabulary_share_unk(tmp_path):
    from translit.utils.native_log import start_tensorflow

    start_tensorflow()
    import tensorflow as tf

    from translit.data.tokenizers import WordTokenizer
    from translit.recipe import TokenizerConfig

    config = TokenizerConfig(type="word", vocab_size=6, normalization="NFC")
    tokenizer = WordTokenizer.train(["ek do ek, teen ek do char", "paanch 42"], config)
    assert tokenizer.words == ["ek", "do"] and tokenizer.unknown_types == 3
    ids = tokenizer.tokenize(tf.constant(["do ek 7 teen!"])).to_list()
    assert ids == [[5, 4, 1]]  # the digits and punctuation are not words; teen is <unk>


def test_text_splits_are_for_language_models(tmp_path):
    from translit.errors import UserError
    from translit.recipe import recipe_from_dict

    raw = {"data": {"train": {"text": "a.txt"}, "valid": {"text": "a.txt"}},
           "train": {"max_steps": 1}}
    with pytest.raises(UserError, match="data.train.text is for language models"):
        recipe_from_dict(raw, "r.yaml")
    with pytest.raises(UserError, match="set model.attention: none"):
        recipe_from_dict({**raw, "model": {"kind": "lm", "attention": "dot"}}, "r.yaml")


def test_the_language_model_chooses_words_in_context(trained_run, tmp_path):
    """The reversal model's second choice for a word wins after a word that the LM's text
    always puts before it, and only there."""
    run_dir = trained_run["run_dir"]
    model = translit.load(run_dir, beam=3, unit="word")
    first, second = model.translate(["abcd"], n_best=3)[0][:2]
    context = model.translate(["hhga"])[0]  # "aghh"
    lm_dir = train_lm(str(tmp_path), [f"{context} {second.text}"] * 300 +
                      [f"{first.text} {context}"] * 300)
    plain = model.translate(["hhga abcd", "abcd hhga"])
    assert plain == [f"{context} {first.text}", f"{first.text} {context}"]
    with_lm = translit.load(run_dir, beam=3, unit="word", lm=lm_dir, lm_weight=5.0)
    assert with_lm.translate(["hhga abcd", "abcd hhga"]) == [f"{context} {second.text}",
                                                             f"{first.text} {context}"]
    source = write_lines(tmp_path / "in.txt", ["hhga, abcd."])
    result = CliRunner().invoke(main, ["translate", source, "-m", run_dir, "--beam", "3",
                                       "--unit", "word", "--lm", lm_dir, "--lm-weight", "5"])
    assert result.exit_code == 0 and result.stdout == f"{context}, {second.text}.\n"
    assert with_lm.describe()["lm"] == {"path": lm_dir, "weight": 5.0, "beam": 1}
    for top, expected in ((1, first.text), (3, second.text)):  # the LM sees the channel's top
        channel = translit.load(run_dir, beam=3, unit="word", lm=lm_dir, lm_weight=5.0,
                                channel=run_dir, channel_weight=0.0, channel_top=top)
        assert channel.translate("hhga abcd") == f"{context} {expected}"


def test_a_beam_over_the_line_revises_an_earlier_word(trained_run, tmp_path):
    """Choosing word by word takes the likelier first word and is stuck with a next word the
    LM never saw after it; a beam of two line hypotheses keeps the other first word, after
    which the LM expects the next one."""
    run_dir = trained_run["run_dir"]
    model = translit.load(run_dir, beam=3, unit="word")
    first, second = model.translate(["abcd"], n_best=3)[0][:2]
    context = model.translate(["hhga"])[0]
    lm_dir = train_lm(str(tmp_path), [f"{first.text} {first.text}"] * 300 +
                      [f"{second.text} {context}"] * 100)
    word_by_word = translit.load(run_dir, beam=3, unit="word", lm=lm_dir, lm_weight=5.0)
    assert word_by_word.translate("abcd hhga") == f"{first.text} {context}"
    source = write_lines(tmp_path / "in.txt", ["abcd hhga"])
    result = CliRunner().invoke(main, ["translate", source, "-m", run_dir, "--beam", "3",
                                       "--unit", "word", "--lm", lm_dir, "--lm-weight", "5",
                                       "--lm-beam", "2"])
    assert result.exit_code == 0 and result.stdout == f"{second.text} {context}\n"
    refused = CliRunner().invoke(main, ["translate", source, "-m", run_dir, "--lm-beam", "2"])
    assert refused.exit_code == 1 and "has no language model" in refused.output


def test_exports_refuse_a_language_model_unless_asked(trained_run, tmp_path):
    run_dir = copy_run_with_decode(trained_run["run_dir"], tmp_path / "run",
                                   lm=str(tmp_path / "some_lm"))
    for options in ([], ["--format", "litert"]):
        refused = CliRunner().invoke(main, ["export", str(tmp_path / "x"), "-m", run_dir,
                                            *options])
        assert refused.exit_code == 1 and "--without-lm" in refused.output
        done = CliRunner().invoke(main, ["export", str(tmp_path / f"e{len(options)}"), "-m",
                                         run_dir, "--without-lm", *options])
        assert done.exit_code == 0, done.output


@pytest.mark.slow
@pytest.mark.parametrize("beam", [1, 2])
def test_many_lines_choose_as_a_few_do(tmp_path, monkeypatch, beam):
    """A hundred lines of 1-12 words run the compiled step for the many rows at first and
    TensorFlow's kernels once few lines remain; the choices and scores are those of the step
    run without XLA for every row."""
    from translit.text import word_lm

    lm = word_lm.WordLanguageModel(train_lm(str(tmp_path), counting(300, seed=1)), 1.0, beam)
    rng = random.Random(2)
    lines = [[[(rng.choice(NUMBERS + ["zzz"]), -rng.random()) for _ in range(rng.randint(1, 4))]
              for _ in range(rng.randint(1, 12))] for _ in range(100)]
    traced = word_lm._compiled_step.experimental_get_tracing_count()
    compiled = lm.choose(lines)
    assert word_lm._compiled_step.experimental_get_tracing_count() > traced
    monkeypatch.setattr(word_lm, "COMPILED_ROWS", 10 ** 9)
    plain = lm.choose(lines)
    assert [[text for text, _ in line] for line in compiled] == \
        [[text for text, _ in line] for line in plain]
    assert [score for line in compiled for _, score in line] == pytest.approx(
        [score for line in plain for _, score in line], abs=1e-4)
    assert [len(line) for line in compiled] == [len(line) for line in lines]
