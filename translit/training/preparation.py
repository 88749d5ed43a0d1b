"""What a training needs before its first step: the run directory checked against the recipe,
the tokenizers loaded or trained, the dev set read and the training stream checked."""

from __future__ import annotations

import dataclasses
import logging
import os
from typing import List, Tuple

import keras
import tensorflow as tf

from translit.data.corpus import ParallelCorpus, corpus_name, sample_pairs, stream_pairs
from translit.data.pipeline import LengthLimits, data_errors, token_pairs
from translit.data.tokenizers import (
    Tokenizer,
    load_tokenizers,
    source_ids,
    target_ids,
    train_tokenizers,
)
from translit.errors import UserError
from translit.recipe import Recipe, Split, TrainConfig, save_recipe
from translit.runs.directory import RunDir
from translit.training.evaluation import read_split
from translit.training.schedules import LearningRate
from translit.utils.files import atomic_path

log = logging.getLogger(__name__)
# Settings that only chose what a trained tokenizer learnt from: a run resumes whatever they say.
_SAMPLE_ONLY = {"tokenizer.max_training_sentences"}


@dataclasses.dataclass
class TrainingData:
    """The prepared inputs of a training."""

    tokenizers: Tuple[Tokenizer, Tokenizer]  # (source, target)
    limits: LengthLimits
    valid: ParallelCorpus


def prepare(recipe: Recipe, run: RunDir, write_dir: str, chief: bool) -> TrainingData:
    """Prepares a training of ``recipe`` into ``run``.

    Args:
      write_dir: where this worker writes (the run directory; a scratch one for the workers
        other than the chief, which do not write the run directory).
      chief: whether this worker writes the run directory.
    Raises:
      UserError: the run was trained with other tokenizer or model settings, the run directory
        cannot be written, or the data is unusable (the file and line named).
    """
    reuse_tokenizer = _prepare_run_dir(recipe, run, chief)
    limits = LengthLimits(recipe.data.max_src_tokens, recipe.data.max_tgt_tokens)
    split = recipe.data.train
    if reuse_tokenizer and os.path.isdir(run.tokenizer_dir):
        tokenizers = load_tokenizers(recipe.tokenizer, run.tokenizer_dir)
    else:  # the sample and SentencePiece are deterministic: every worker gets the same model
        tokenizers, sample = train_recipe_tokenizers(recipe, os.path.join(write_dir, "tokenizer"))
        _log_over_limits(sample, tokenizers, limits, _name(split))
        del sample
    valid = read_split(recipe.data.valid)
    with data_errors():
        first = next(iter(token_pairs(split, tokenizers, limits).take(1)), None)
    if first is None:
        raise UserError(f"{_name(split)}: every training pair is over the length limits "
                        f"data.max_src_tokens={limits.source}, "
                        f"data.max_tgt_tokens={limits.target}")
    return TrainingData(tokenizers, limits, valid)


def _prepare_run_dir(recipe: Recipe, run: RunDir, chief: bool) -> bool:
    """A run with checkpoints resumes only with the same tokenizer and model; a run without
    any is not a trained run: it starts afresh (keeping its tokenizer while still valid).

    Returns: whether the run's tokenizer, when there is one, is to be used.
    """
    reuse_tokenizer = True
    if not chief and not run.has_checkpoint():
        # The chief may be writing or clearing the run directory right now: train afresh
        # in the scratch directory (the tokenizer comes out the same).
        reuse_tokenizer = False
    elif run.exists():
        saved = run.load_recipe()
        changes = _changed_settings(saved, recipe)
        if run.has_checkpoint():
            if changes:
                raise UserError(f"{run.recipe_path} was trained with {changes[0]}; "
                                "resume with the same value or train into a new --run-dir")
        else:
            reuse_tokenizer = (saved.data.train == recipe.data.train and not any(
                change.startswith("tokenizer.") for change in changes))
            log.warning("%s has no checkpoint: starting it afresh%s", run.path,
                        f" ({'; '.join(changes)})" if changes else "")
            if chief:
                run.clear(keep_tokenizer=reuse_tokenizer)
    if chief:
        try:
            os.makedirs(run.path, exist_ok=True)
            save_recipe(recipe, run.recipe_path)
        except OSError as e:
            raise run.unwritable(e) from None
    return reuse_tokenizer


def _changed_settings(saved: Recipe, new: Recipe) -> List[str]:
    """The tokenizer and model settings that differ, as ``section.key=OLD, the recipe now says
    NEW``."""
    changes = []
    for section in ("tokenizer", "model"):
        before = dataclasses.asdict(getattr(saved, section))
        now = dataclasses.asdict(getattr(new, section))
        changes += [f"{section}.{key}={value!r}, the recipe now says {now[key]!r}"
                    for key, value in before.items()
                    if value != now[key] and f"{section}.{key}" not in _SAMPLE_ONLY]
    return changes


def train_recipe_tokenizers(recipe: Recipe, directory: str):
    """Trains the recipe's tokenizers on a uniform sample of its training corpus, read as a
    stream, and saves them in ``directory`` (written whole or not at all).

    Returns:
      ((source tokenizer, target tokenizer), the sample: a list of (source, target) texts).
    """
    config, split = recipe.tokenizer, recipe.data.train
    # A joint tokenizer learns from both sides: half as many pairs give as many sentences.
    size = max(1, config.max_training_sentences // (2 if config.joint else 1))
    sample = sample_pairs(stream_pairs(split.src, split.tgt, split.tsv), size, recipe.train.seed)
    if not sample:
        raise UserError(f"{_name(split)}: no sentence pairs (every line is empty)")
    log.info("training the %s tokenizer on %d pairs%s", config.type, len(sample),
             " (a sample)" if len(sample) == size else "")
    with atomic_path(directory) as partial:
        tokenizers = train_tokenizers(config, [pair[0] for pair in sample],
                                      [pair[1] for pair in sample], partial)
    return tokenizers, sample


def _log_over_limits(sample, tokenizers, limits: LengthLimits, name: str, size: int = 10_000):
    """Logs how many pairs are over the length limits: exactly when the tokenizer's sample is
    the whole corpus (up to ``size`` pairs), else as estimated on ``size`` sampled pairs."""
    pairs = sample[:size]
    source = source_ids(tokenizers[0], tf.constant([pair[0] for pair in pairs]))
    target = target_ids(tokenizers[1], tf.constant([pair[1] for pair in pairs]))
    over = len(pairs) - int(tf.reduce_sum(tf.cast(limits.fits(source, target), tf.int32)))
    if not over:
        return
    what = f"pairs over the length limits ({limits.source} source, {limits.target} target tokens)"
    if len(pairs) == len(sample):
        log.warning("%s: dropped %d of %d %s", name, over, len(pairs), what)
    else:
        log.warning("%s: about %.1f%% of the %s are left out (%d of %d sampled pairs)", name,
                    100 * over / len(pairs), what, over, len(pairs))


def _name(split: Split) -> str:
    return corpus_name(split.src, split.tgt, split.tsv)


def build_optimizer(train: TrainConfig, model, plateau_scale, loss_scaling: bool):
    """Adam on the recipe's learning-rate schedule, its slots built for ``model``'s weights
    (call it in the strategy's scope).

    Args:
      plateau_scale: the evaluator's factor of the learning rate (plateau decay).
      loss_scaling: wrap it for float16 gradients, which underflow without it.
    """
    optimizer = keras.optimizers.Adam(LearningRate(train, plateau_scale))
    if loss_scaling:
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    optimizer.build(model.trainable_variables)
    return optimizer
