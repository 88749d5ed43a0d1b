"""Shared fixtures: toy corpora written to temp dirs and one small trained run."""

import os
import random

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(line + "\n" for line in lines)
    return str(path)


def reversal_pairs(count, seed):
    """Random words over a-h and their reversals: the toy task of Sutskever et al."""
    rng = random.Random(seed)
    words = ["".join(rng.choice("abcdefgh") for _ in range(rng.randint(3, 7)))
             for _ in range(count)]
    return words, [w[::-1] for w in words]


def write_recipe(directory, *, train_size=1500, valid_size=100, **sections):
    """Writes a char-level reversal corpus and a tiny recipe into ``directory``.

    Keyword sections (``model={...}``, ``train={...}``) update the recipe's defaults.
    """
    directory = str(directory)
    paths = {}
    for name, count, seed in (("train", train_size, 1), ("valid", valid_size, 2)):
        sources, targets = reversal_pairs(count, seed)
        paths[name] = {"src": write_lines(os.path.join(directory, f"{name}.src"), sources),
                       "tgt": write_lines(os.path.join(directory, f"{name}.tgt"), targets)}
    recipe = {
        "name": "toy",
        "data": {"train": paths["train"], "valid": paths["valid"], "test": paths["valid"],
                 "max_src_tokens": 20, "max_tgt_tokens": 20},
        "tokenizer": {"type": "char", "joint": True, "vocab_size": 32},
        "model": {"embedding_dim": 32, "units": 64, "layers": 1, "dropout": 0.0},
        "train": {"batch_tokens": 512, "max_steps": 20, "learning_rate": 0.01,
                  "label_smoothing": 0.0, "checkpoint_every": 10, "eval_every": 1000,
                  "log_every": 10, "seed": 7},
        "decode": {"beam_size": 1, "batch_size": 32, "max_length_ratio": 1.5,
                   "max_length_offset": 2},
    }
    for section, values in sections.items():
        recipe[section].update(values)
    path = os.path.join(directory, "toy.yaml")
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(recipe, f)
    return path


def copy_run_with_decode(run_dir, destination, **decode):
    """Copies a run directory to ``destination`` with ``decode`` keys set in its recipe.yaml.

    Returns:
      The copy's path.
    """
    import shutil

    destination = str(destination)
    shutil.copytree(run_dir, destination)
    recipe_path = os.path.join(destination, "recipe.yaml")
    with open(recipe_path, encoding="utf-8") as f:
        recipe = yaml.safe_load(f)
    recipe["decode"].update(decode)
    with open(recipe_path, "w", encoding="utf-8") as f:
        yaml.safe_dump(recipe, f)
    return destination


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """A reversal model trained to about 99% exact match (about 15 s on 2 CPU cores)."""
    from translit.recipe import load_recipe
    from translit.training.trainer import train

    directory = tmp_path_factory.mktemp("reversal")
    recipe = load_recipe(write_recipe(directory, train={"max_steps": 800, "learning_rate": 0.005},
                                      model={"units": 128}))
    run_dir = str(directory / "run")
    record = train(recipe, run_dir)
    return {"run_dir": run_dir, "record": record, "directory": str(directory)}


@pytest.fixture(scope="session")
def attention_run(tmp_path_factory):
    """A bidirectional attention model trained on reversal for 300 steps (about 20 s), in
    batches of two lengths: with one, each pass over these 1,500 pairs ends in a partly filled
    batch per length, a quarter of the steps, and 300 steps reach 86% instead of 100%."""
    from translit.recipe import load_recipe
    from translit.training.trainer import train

    directory = tmp_path_factory.mktemp("attention")
    recipe = load_recipe(write_recipe(
        directory, model={"attention": "dot", "bidirectional": True},
        train={"max_steps": 300, "learning_rate": 0.01, "eval_every": 100,
               "valid_metric": "accuracy", "bucket_width": 2}))
    run_dir = str(directory / "run")
    return {"run_dir": run_dir, "record": train(recipe, run_dir), "directory": str(directory)}


def _number_words_run(directory, **tokenizer):
    """A few steps of a SentencePiece model on the number words (quality is not the point)."""
    from translit.recipe import load_recipe
    from translit.training.trainer import train

    words = os.path.join(REPO, "corpora", "number_words")
    split = {"src": os.path.join(words, "valid.de"), "tgt": os.path.join(words, "valid.en")}
    path = write_recipe(directory, data={"train": split, "valid": split, "test": None,
                                         "max_src_tokens": 40, "max_tgt_tokens": 40},
                        tokenizer={"type": "sentencepiece", "vocab_size": 120, **tokenizer},
                        train={"max_steps": 30, "eval_every": 1000})
    run_dir = str(directory / "run")
    train(load_recipe(path), run_dir)
    return {"run_dir": run_dir, "directory": str(directory)}


@pytest.fixture(scope="session")
def sentencepiece_run(tmp_path_factory):
    return _number_words_run(tmp_path_factory.mktemp("sentencepiece"))


@pytest.fixture(scope="session")
def side_vocabularies_run(tmp_path_factory):
    """As ``sentencepiece_run``, each side's vocabulary the pieces it uses of the joint model."""
    return _number_words_run(tmp_path_factory.mktemp("side_vocabularies"),
                             side_vocabularies=True)
