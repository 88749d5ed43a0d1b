"""Shared fixtures: small trained runs, one per session; the ``slow`` marker (see
docs/development.md) on every test that uses one."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

from helpers import REPO, write_recipe

# Fixtures that train a model: a test that uses one is slow.
TRAINING_FIXTURES = {"trained_run", "attention_run", "sentencepiece_run", "side_vocabularies_run"}


def pytest_collection_modifyitems(items):
    for item in items:
        if TRAINING_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


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
