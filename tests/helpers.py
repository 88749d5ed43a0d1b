"""Helpers the tests share: toy corpora and recipes written to temporary directories."""

import os
import random
import shutil

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
    destination = str(destination)
    shutil.copytree(run_dir, destination)
    recipe_path = os.path.join(destination, "recipe.yaml")
    with open(recipe_path, encoding="utf-8") as f:
        recipe = yaml.safe_load(f)
    recipe["decode"].update(decode)
    with open(recipe_path, "w", encoding="utf-8") as f:
        yaml.safe_dump(recipe, f)
    return destination
