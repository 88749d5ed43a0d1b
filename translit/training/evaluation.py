"""Dev evaluation during training: dev loss and greedy scores, the best checkpoint by the dev
metric, the learning rate's plateau decay and early stopping."""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import os

import tensorflow as tf

from translit.data.corpus import ParallelCorpus, read_parallel
from translit.data.pipeline import LengthLimits, evaluation_batches
from translit.decoding import scoring
from translit.decoding.translator import Translator
from translit.models import trackable_weights
from translit.models.losses import token_loss
from translit.recipe import Recipe, Split
from translit.runs import checkpoints
from translit.runs.metrics_log import MetricsLog

log = logging.getLogger(__name__)


class Evaluator:
    """Scores the training model on the dev set and decides what the scores imply.

    Its state (the best dev metric, evaluations without a better one, the learning-rate scale)
    is in ``tf.Variable``s that the training checkpoint holds, so a resumed run decides alike.

    Args:
      recipe: the training's recipe (``data.valid``, ``data.test``, ``train``, ``decode``).
      model: the model being trained.
      tokenizers: (source, target) tokenizers.
      limits: the training's length limits (the dev loss leaves longer pairs out).
      valid: the dev set.
      step: the training's step variable, saved with the best weights.
      directory: where ``best/`` goes (the run's checkpoint directory).
      metrics: where records are written.
    """

    def __init__(self, recipe: Recipe, model, tokenizers, limits: LengthLimits,
                 valid: ParallelCorpus, step: tf.Variable, directory: str, metrics: MetricsLog):
        self.recipe, self.model, self.tokenizers, self.limits = recipe, model, tokenizers, limits
        self.metrics = metrics
        self.plateau_scale = tf.Variable(1.0, trainable=False, name="plateau_scale")
        self.best_metric = tf.Variable(float("nan"), trainable=False, name="best_metric")
        self.bad_evaluations = tf.Variable(0, dtype=tf.int64, trainable=False,
                                           name="bad_evaluations")
        self.best = tf.train.CheckpointManager(  # the best weights (weights and step only)
            tf.train.Checkpoint(model=trackable_weights(model), step=step),
            os.path.join(directory, "best"), max_to_keep=1)
        self.valid = valid
        self._last, self._selected_step = {}, None

    def state(self) -> dict:
        """The variables a training checkpoint holds, by the names it holds them under."""
        return {"plateau_scale": self.plateau_scale, "best_metric": self.best_metric,
                "bad_evaluations": self.bad_evaluations}

    def stopped_early(self) -> bool:
        """Whether early stopping said to stop (a resumed run that had stopped early too)."""
        patience = self.recipe.train.early_stopping
        return patience is not None and int(self.bad_evaluations) >= patience

    def evaluate(self, step: int) -> dict:
        """Dev loss and scores (greedy) at ``step``, written once per step.

        Every worker evaluates (they wait for each other anyway), so that all take the same
        early-stopping and learning-rate decisions; the chief writes.
        """
        if self._last.get("step") != step:
            loss = self._dev_loss()
            self._last = self.metrics.write({"type": "eval", "step": step, "valid_loss": loss,
                                             **self._scores("valid", self.valid, loss)})
        return self._last

    def select(self, record: dict) -> bool:
        """Keeps the best checkpoint by ``train.valid_metric`` and lowers the learning rate on a
        plateau. Returns True when early stopping says to stop."""
        train = self.recipe.train
        if record["step"] == self._selected_step:
            return False
        self._selected_step = record["step"]
        value, best = record[f"valid_{train.valid_metric}"], float(self.best_metric)
        better = value < best if train.valid_metric == "loss" else value > best
        if math.isnan(best) or better:
            self.best_metric.assign(value)
            self.bad_evaluations.assign(0)
            checkpoints.save(self.best, record["step"])
            return False
        self.bad_evaluations.assign_add(1)
        if train.plateau_factor < 1 and int(self.bad_evaluations) % train.plateau_patience == 0:
            self.plateau_scale.assign(self.plateau_scale * train.plateau_factor)
            log.info("dev %s has not improved for %d evaluations: learning rate scaled by %g",
                     train.valid_metric, int(self.bad_evaluations), float(self.plateau_scale))
        return self.stopped_early()

    def final(self, step: int) -> dict:
        """Dev and test scores of the best checkpoint (its weights stay loaded), written.

        Args:
          step: the training's last step.
        """
        best = self.best.latest_checkpoint
        record = {"type": "final", "checkpoint": best, "last_step": step,
                  "step": int(best.rsplit("-", 1)[1]) if best else step}
        if best and record["step"] != step:  # evaluate the best weights, not the last
            checkpoints.restore_weights(self.model, best)
            loss = self._dev_loss()
            record.update(valid_loss=loss, **self._scores("valid", self.valid, loss))
        else:
            record.update({k: v for k, v in self.evaluate(step).items()
                           if k.startswith("valid_")})
        if self.recipe.data.test is not None:
            record.update(self._scores("test", read_split(self.recipe.data.test)))
        return self.metrics.write(record)

    def _scores(self, name: str, corpus: ParallelCorpus, loss: float = None) -> dict:
        """Scores of the split ``name``; ``loss``: its loss, when already computed."""
        if self.recipe.model.kind == "lm":  # nothing to translate: the text's perplexity
            if loss is None:
                loss = self._loss(evaluation_batches(getattr(self.recipe.data, name),
                                                     self.tokenizers, self.limits,
                                                     self.recipe.train.batch_tokens))
            return {f"{name}_perplexity": round(math.exp(loss), 2)}
        hypotheses = self._translator.translate_lines(corpus.sources,
                                                        self.recipe.decode.batch_size)
        metrics = dict.fromkeys(("bleu", "chrf", *_metrics_for(self.recipe.train.valid_metric)))
        scores = scoring.score(hypotheses, corpus.targets, list(metrics))
        return {f"{name}_{metric}": result["score"] for metric, result in scores.items()}

    def _dev_loss(self) -> float:
        return self._loss(self._dev_batches)

    def _loss(self, batches: tf.data.Dataset) -> float:
        """Mean token cross-entropy over ``batches``."""
        total, tokens = 0.0, 0.0
        for source, target_in, target_out in batches:
            loss_sum, count = token_loss(self.model, source, target_in, target_out)
            total, tokens = total + float(loss_sum), tokens + float(count)
        return round(total / max(tokens, 1.0), 4)

    @functools.cached_property
    def _dev_batches(self) -> tf.data.Dataset:
        return evaluation_batches(self.recipe.data.valid, self.tokenizers, self.limits,
                                  self.recipe.train.batch_tokens)

    @functools.cached_property
    def _translator(self) -> Translator:
        """Greedy search on the training model (one graph, traced once)."""
        decode = dataclasses.replace(self.recipe.decode, beam_size=1)
        return Translator(self.model, *self.tokenizers, decode,
                          max_source_tokens=self.recipe.data.max_translate_tokens)


def _metrics_for(valid_metric: str):
    """Extra metrics to compute: accuracy comes with the character error rate."""
    return {"accuracy": ("accuracy", "cer")}.get(valid_metric, ())


def read_split(split: Split) -> ParallelCorpus:
    """A whole (small) corpus split in memory: the dev or test set."""
    return read_parallel(split.src, split.tgt, split.tsv)
