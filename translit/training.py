"""Training: a custom step under a tf.distribute strategy, checkpoints, resume, dev evaluation.

The step (``tf.function`` + ``strategy.run`` + ``GradientTape`` + a Keras optimizer) is the same
for the default strategy, ``MirroredStrategy`` and ``MultiWorkerMirroredStrategy``; Keras 3's
``fit`` is not used because it fails under the multi-worker strategy (see DESIGN.md).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import sys
import time
from typing import Optional

import keras
import tensorflow as tf

from translit import scoring
from translit.corpus import read_parallel
from translit.data import batches, encode_corpus
from translit.errors import UserError
from translit.models import build_model, trackable_weights
from translit.recipe import Recipe, Split, save_recipe
from translit.run_dir import RunDir
from translit.tokenizers import PAD_ID, load_tokenizers, train_tokenizers
from translit.translator import Translator

log = logging.getLogger(__name__)
_SUM = tf.distribute.ReduceOp.SUM


def masked_cross_entropy(logits, labels, label_smoothing=0.0):
    """Summed token cross-entropy over non-padding labels.

    Args:
      logits: (batch, time, vocab); labels: (batch, time) int32, 0 = padding.
      label_smoothing: weight of the uniform distribution mixed into the one-hot target.
    Returns:
      (summed loss, number of non-padding tokens), float32 scalars.
    """
    logits = tf.cast(logits, tf.float32)
    mask = tf.cast(tf.not_equal(labels, PAD_ID), tf.float32)  # (batch, time)
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    if label_smoothing:
        uniform = -tf.reduce_mean(tf.nn.log_softmax(logits), axis=-1)  # (batch, time)
        loss = (1.0 - label_smoothing) * loss + label_smoothing * uniform
    return tf.reduce_sum(loss * mask), tf.reduce_sum(mask)


class Trainer:
    """Trains the model of a recipe into a run directory, resuming what is there.

    Args:
      recipe: the validated recipe.
      run_dir: where the recipe, tokenizers, checkpoints and metrics go.
      strategy: a ``tf.distribute`` strategy; the default strategy when None.
    """

    def __init__(self, recipe: Recipe, run_dir: str,
                 strategy: Optional[tf.distribute.Strategy] = None):
        self.recipe = recipe
        self.run = RunDir(run_dir)
        self.strategy = strategy or tf.distribute.get_strategy()
        # Seeding clears TensorFlow's kernel cache, which owns the SentencePiece resources of
        # tensorflow-text: seed before any tokenizer exists.
        keras.utils.set_random_seed(recipe.train.seed)
        self._prepare_run_dir()
        self._prepare_data()
        with self.strategy.scope():
            self.model = build_model(recipe.model, self.source_tokenizer.vocab_size,
                                     self.target_tokenizer.vocab_size)
            self.optimizer = keras.optimizers.Adam(recipe.train.learning_rate)
            self.optimizer.build(self.model.trainable_variables)
        # Counters live outside the strategy: one copy, updated in cross-replica context.
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self.checkpoint = tf.train.Checkpoint(model=trackable_weights(self.model),
                                              optimizer=self.optimizer,
                                              step=self.step, epoch=self.epoch)
        self.manager = tf.train.CheckpointManager(self.checkpoint, self.run.checkpoint_dir,
                                                  max_to_keep=recipe.train.keep_checkpoints)
        self._restore()
        self._last_eval = {}

    # -- setup -------------------------------------------------------------------------------

    def _prepare_run_dir(self) -> None:
        if self.run.exists():
            _check_same_model(self.run.load_recipe(), self.recipe, self.run.recipe_path)
        os.makedirs(self.run.path, exist_ok=True)
        save_recipe(self.recipe, self.run.recipe_path)

    def _prepare_data(self) -> None:
        data, config = self.recipe.data, self.recipe.tokenizer
        train = _read(data.train)
        log.info("training corpus: %d pairs", len(train))
        if os.path.isdir(self.run.tokenizer_dir):
            tokenizers = load_tokenizers(config, self.run.tokenizer_dir)
        else:
            log.info("training the %s tokenizer", config.type)
            tokenizers = train_tokenizers(config, train.sources, train.targets,
                                          self.run.tokenizer_dir + ".tmp")
            os.replace(self.run.tokenizer_dir + ".tmp", self.run.tokenizer_dir)
        self.source_tokenizer, self.target_tokenizer = tokenizers
        limits = (data.max_src_tokens, data.max_tgt_tokens)
        self.train_data = encode_corpus(train, *tokenizers, *limits, name="train")
        self.valid = _read(data.valid)
        self.valid_data = encode_corpus(self.valid, *tokenizers, *limits, name="valid")
        if not len(self.train_data):
            raise UserError("Every training pair is over the length limits "
                            f"data.max_src_tokens={limits[0]}, data.max_tgt_tokens={limits[1]}")

    def _restore(self) -> None:
        latest = self.manager.latest_checkpoint
        if latest:
            self.checkpoint.restore(latest).assert_existing_objects_matched()
            log.info("resumed from %s at step %d", latest, int(self.step))

    # -- the step ----------------------------------------------------------------------------

    def _replica_step(self, source, target_in, target_out):
        """One replica's forward and backward pass; gradients summed over replicas."""
        context = tf.distribute.get_replica_context()
        train = self.recipe.train
        local_tokens = tf.reduce_sum(tf.cast(tf.not_equal(target_out, PAD_ID), tf.float32))
        global_tokens = context.all_reduce(_SUM, local_tokens)
        with tf.GradientTape() as tape:
            logits = self.model((source, target_in), training=True)
            loss_sum, _ = masked_cross_entropy(logits, target_out, train.label_smoothing)
            loss = loss_sum / global_tokens
        variables = self.model.trainable_variables
        # Dense embedding gradients: repeated tokens summed, so the global norm is the true one.
        gradients = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]
        gradients = context.all_reduce(_SUM, gradients)
        gradients, norm = tf.clip_by_global_norm(gradients, train.clip_norm)
        # The Keras optimizer sums gradients over replicas once more: hand it each one's share.
        share = 1.0 / self.strategy.num_replicas_in_sync
        self.optimizer.apply([g * share for g in gradients], variables)
        return loss, norm

    def _make_train_step(self, dataset):
        @tf.function(input_signature=[dataset.element_spec])
        def train_step(batch):
            loss, norm = self.strategy.run(self._replica_step, args=batch)
            self.step.assign_add(1)
            norm = self.strategy.experimental_local_results(norm)[0]  # equal on all replicas
            return self.strategy.reduce(_SUM, loss, axis=None), norm
        return train_step

    # -- the loop ----------------------------------------------------------------------------

    def train(self) -> dict:
        """Trains until ``max_steps`` or ``max_epochs``. Returns the last evaluation record."""
        train = self.recipe.train
        dataset = batches(self.train_data, train.batch_tokens, train.shuffle_buffer, train.seed)
        distributed = self.strategy.experimental_distribute_dataset(dataset)
        train_step = self._make_train_step(distributed)
        meter, progress = _Meter(), _Progress(train.max_steps)
        while not self._done():
            for batch in distributed:
                loss, norm = train_step(batch)
                step = int(self.step)
                meter.add(self.strategy.experimental_local_results(batch[2]), float(loss))
                progress.update(step, int(self.epoch))
                if step % train.log_every == 0:
                    progress.show(self._log_train(step, meter, float(norm)))
                if step % train.checkpoint_every == 0:
                    self.manager.save(checkpoint_number=step)
                if step % train.eval_every == 0:
                    progress.show(self.evaluate())
                    meter.reset()  # evaluation time is not training throughput
                if self._done(step_only=True):
                    break
            else:
                self.epoch.assign_add(1)
        self._save_final()
        return progress.show(self.evaluate(include_test=True))

    def _done(self, step_only=False) -> bool:
        train = self.recipe.train
        if train.max_steps is not None and int(self.step) >= train.max_steps:
            return True
        epochs = train.max_epochs
        return not step_only and epochs is not None and int(self.epoch) >= epochs

    def _save_final(self) -> None:
        step = int(self.step)
        latest = self.manager.latest_checkpoint
        if latest is None or not latest.endswith(f"-{step}"):
            self.manager.save(checkpoint_number=step)

    def _log_train(self, step: int, meter: "_Meter", grad_norm: float) -> dict:
        record = {"type": "train", "step": step, "epoch": int(self.epoch), **meter.summary(),
                  "grad_norm": round(grad_norm, 4),
                  "learning_rate": float(tf.convert_to_tensor(self.optimizer.learning_rate))}
        self.run.log_metrics(record)
        return record

    # -- evaluation --------------------------------------------------------------------------

    def evaluate(self, include_test: bool = False) -> dict:
        """Dev loss and BLEU/chrF (greedy) into metrics.jsonl; the test set's too when asked.

        The dev set is not evaluated twice at the same step.
        """
        step = int(self.step)
        record = self._last_eval if self._last_eval.get("step") == step else {}
        if not record:
            record = {"type": "eval", "step": step, "valid_loss": self._dev_loss(),
                      **self._scores("valid", self.valid)}
        if include_test and self.recipe.data.test is not None:
            record = {**record, **self._scores("test", _read(self.recipe.data.test))}
        if record is not self._last_eval:
            self.run.log_metrics(record)
        self._last_eval = record
        return record

    def _scores(self, name: str, corpus) -> dict:
        hypotheses = self._translator.translate_lines(corpus.sources,
                                                        self.recipe.decode.batch_size)
        scores = scoring.score(hypotheses, corpus.targets, ("bleu", "chrf"))
        return {f"{name}_{metric}": result["score"] for metric, result in scores.items()}

    @functools.cached_property
    def _translator(self) -> Translator:
        """Greedy search on the training model (one graph, traced once)."""
        decode = dataclasses.replace(self.recipe.decode, beam_size=1)
        return Translator(self.model, self.source_tokenizer, self.target_tokenizer, decode,
                          max_source_tokens=4 * self.recipe.data.max_src_tokens)

    def _dev_loss(self) -> float:
        total, tokens = 0.0, 0.0
        for source, target_in, target_out in batches(self.valid_data,
                                                     self.recipe.train.batch_tokens):
            logits = self.model((source, target_in), training=False)
            loss_sum, count = masked_cross_entropy(logits, target_out)
            total, tokens = total + float(loss_sum), tokens + float(count)
        return round(total / max(tokens, 1.0), 4)


class _Meter:
    """Loss and target-token throughput since the last summary."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.start, self.losses, self.tokens = time.perf_counter(), [], 0

    def add(self, targets, loss: float) -> None:
        self.losses.append(loss)
        self.tokens += sum(int(tf.math.count_nonzero(t)) for t in targets)

    def summary(self) -> dict:
        elapsed = time.perf_counter() - self.start
        result = {"loss": round(sum(self.losses) / max(len(self.losses), 1), 4),
                  "target_tokens_per_s": round(self.tokens / max(elapsed, 1e-9), 1)}
        self.reset()
        return result


class _Progress:
    """Progress on stderr: a bar redrawn in place on a terminal, plain lines otherwise."""

    def __init__(self, total_steps: Optional[int], stream=sys.stderr):
        self.total, self.stream = total_steps, stream
        self.tty = stream.isatty()
        self.latest, self.drawn = "", 0.0

    def update(self, step: int, epoch: int) -> None:
        if not self.tty or time.monotonic() - self.drawn < 0.25:
            return
        self.drawn = time.monotonic()
        bar = ""
        if self.total:
            done = int(30 * min(step / self.total, 1.0))
            bar = f"[{'=' * done}{' ' * (30 - done)}] "
        total = f"/{self.total}" if self.total else ""
        self.stream.write(f"\r{bar}step {step}{total} epoch {epoch} {self.latest}\033[K")
        self.stream.flush()

    def show(self, record: dict) -> dict:
        """Prints a train or eval record on its own line; train records also feed the bar."""
        if record["type"] == "train":
            self.latest = f"loss {record['loss']:.4f} {record['target_tokens_per_s']:,.0f} tok/s"
        text = "  ".join(_format(key, value) for key, value in record.items())
        self.stream.write(("\r\033[K" if self.tty else "") + text + "\n")
        self.stream.flush()
        return record


def _format(key: str, value) -> str:
    if key == "type":
        return f"{value:<5}"
    if isinstance(value, float):
        value = f"{value:,.0f}" if key.endswith("per_s") else f"{value:.4g}"
    return f"{key} {value}"


def _read(split: Split):
    return read_parallel(split.src, split.tgt, split.tsv)


def _check_same_model(saved: Recipe, new: Recipe, where: str) -> None:
    """A run directory resumes only with the same tokenizer and model settings."""
    for section in ("tokenizer", "model"):
        before = dataclasses.asdict(getattr(saved, section))
        now = dataclasses.asdict(getattr(new, section))
        for key, value in before.items():
            if value != now[key]:
                raise UserError(f"{where} was trained with {section}.{key}={value!r}, the recipe "
                                f"now says {now[key]!r}; resume with the same value or train "
                                "into a new --run-dir")


def train(recipe: Recipe, run_dir: str, strategy=None) -> dict:
    """Trains (or resumes) a run. Returns the final evaluation record."""
    return Trainer(recipe, run_dir, strategy).train()
