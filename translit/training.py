"""Training: a custom step under a tf.distribute strategy, checkpoints, resume, dev evaluation.

The step (``tf.function`` + ``strategy.run`` + ``GradientTape`` + a Keras optimizer) is the same
for the default strategy, ``MirroredStrategy`` and ``MultiWorkerMirroredStrategy``; Keras 3's
``fit`` is not used because it fails under the multi-worker strategy (see DESIGN.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import glob
import logging
import math
import os
import re
import shutil
import signal
from typing import List, Optional

import keras
import tensorflow as tf
from tensorflow.core.framework import summary_pb2

from translit import scoring
from translit.corpus import corpus_name, read_parallel, sample_pairs, stream_pairs
from translit.data import (
    Limits,
    Shard,
    data_error,
    evaluation_batches,
    token_pairs,
    training_batches,
)
from translit.distribute import is_chief, num_workers, worker_scratch_dir
from translit.errors import TrainingInterrupted, UserError
from translit.interrupts import StopRequests
from translit.models import build_model, trackable_weights
from translit.precision import resolve_precision
from translit.progress import Meter, Progress, timestamp
from translit.recipe import Recipe, Split, save_recipe
from translit.run_dir import RunDir
from translit.schedules import LearningRate
from translit.tokenizers import PAD_ID, load_tokenizers, source_ids, target_ids, train_tokenizers
from translit.translator import Translator

log = logging.getLogger(__name__)
_SUM = tf.distribute.ReduceOp.SUM
# What collectives raise when a worker of the cluster died: TensorFlow's health check aborts them
# with UNAVAILABLE; a peer that restarted meanwhile gives FAILED_PRECONDITION.
PEER_LOST = (tf.errors.UnavailableError, tf.errors.FailedPreconditionError,
             tf.errors.DeadlineExceededError, tf.errors.CancelledError)
_SCALAR_METADATA = summary_pb2.SummaryMetadata(
    plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))


def masked_cross_entropy(logits, labels, label_smoothing=0.0):
    """Summed token cross-entropy over non-padding labels.

    Args:
      logits: (..., vocab); labels: (...) int32, 0 = padding.
      label_smoothing: weight of the uniform distribution mixed into the one-hot target.
    Returns:
      (summed loss, number of non-padding tokens), float32 scalars.
    """
    logits = tf.cast(logits, tf.float32)
    mask = tf.cast(tf.not_equal(labels, PAD_ID), tf.float32)  # (...)
    if label_smoothing:  # the smoothed target (1 - s) one-hot + s / vocab, in one fused kernel
        vocab = tf.shape(logits)[-1]
        off = label_smoothing / tf.cast(vocab, tf.float32)
        target = tf.one_hot(labels, vocab, 1.0 - label_smoothing + off, off)  # (..., vocab)
        loss = tf.nn.softmax_cross_entropy_with_logits(labels=target, logits=logits)
    else:
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return tf.reduce_sum(loss * mask), tf.reduce_sum(mask)


def token_loss(model, source, target_in, target_out, label_smoothing=0.0, training=False,
               only_tokens=True):
    """Summed cross-entropy of a batch and its number of target tokens.

    Args: source (batch, src_time), target_in and target_out (batch, tgt_time).
      only_tokens: compute logits at the target tokens only, not at the padding (XLA, which
        wants static shapes, masks the loss over every position instead).
    """
    keep = tf.not_equal(target_out, PAD_ID) if only_tokens else None
    labels = tf.boolean_mask(target_out, keep) if only_tokens else target_out
    logits = model((source, target_in), training=training, keep=keep)  # (kept, vocab)
    return masked_cross_entropy(logits, labels, label_smoothing)


class Trainer:
    """Trains the model of a recipe into a run directory, resuming what is there.

    Under ``MultiWorkerMirroredStrategy`` every worker runs the same Trainer; only the chief
    writes the run directory, the others write their checkpoints to a temporary directory
    (deleted at the end) and resume from the chief's checkpoints.

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
        self.chief = is_chief(self.strategy)
        self.write_dir = run_dir if self.chief else worker_scratch_dir(self.strategy, run_dir)
        # Seeding clears TensorFlow's kernel cache, which owns the SentencePiece resources of
        # tensorflow-text: seed before any tokenizer exists.
        keras.utils.set_random_seed(recipe.train.seed)
        self._prepare_run_dir()
        self._prepare_data()
        precision = resolve_precision(recipe.train.precision)
        self.loss_scaling = precision == "mixed_float16"
        # Counters live outside the strategy: one copy, updated in cross-replica context.
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self.plateau_scale = tf.Variable(1.0, trainable=False, name="plateau_scale")
        self.best_metric = tf.Variable(float("nan"), trainable=False, name="best_metric")
        self.bad_evaluations = tf.Variable(0, dtype=tf.int64, trainable=False,
                                           name="bad_evaluations")
        with self.strategy.scope():
            self.model = build_model(recipe.model, self.source_tokenizer.vocab_size,
                                     self.target_tokenizer.vocab_size, precision)
            self.optimizer = keras.optimizers.Adam(LearningRate(recipe.train, self.plateau_scale))
            if self.loss_scaling:  # float16 gradients underflow without it
                self.optimizer = keras.optimizers.LossScaleOptimizer(self.optimizer)
            self.optimizer.build(self.model.trainable_variables)
        self.checkpoint = tf.train.Checkpoint(
            model=trackable_weights(self.model), optimizer=self.optimizer, step=self.step,
            epoch=self.epoch, plateau_scale=self.plateau_scale, best_metric=self.best_metric,
            bad_evaluations=self.bad_evaluations)
        checkpoints = os.path.join(self.write_dir, "checkpoints")
        self.manager = tf.train.CheckpointManager(self.checkpoint, checkpoints,
                                                  max_to_keep=recipe.train.keep_checkpoints)
        # The best weights by the dev metric (weights and step only).
        self.best_manager = tf.train.CheckpointManager(
            tf.train.Checkpoint(model=trackable_weights(self.model), step=self.step),
            os.path.join(checkpoints, "best"), max_to_keep=1)
        self._restore()
        self._last_eval, self._selected_step = {}, None
        # XLA compiles the forward and backward pass (not the collectives), once per batch shape.
        self._gradients = (tf.function(self._forward_backward, jit_compile=True)
                           if recipe.train.xla else self._forward_backward)

    # -- setup -------------------------------------------------------------------------------

    def _prepare_run_dir(self) -> None:
        """A run with checkpoints resumes only with the same tokenizer and model; a run without
        any is not a trained run: it starts afresh (keeping its tokenizer while still valid)."""
        self._reuse_tokenizer = True
        if not self.chief and not self.run.has_checkpoint():
            # The chief may be writing or clearing the run directory right now: train afresh
            # in the scratch directory (the tokenizer comes out the same).
            self._reuse_tokenizer = False
        elif self.run.exists():
            saved = self.run.load_recipe()
            changes = _changed_settings(saved, self.recipe)
            if self.run.has_checkpoint():
                if changes:
                    raise UserError(f"{self.run.recipe_path} was trained with {changes[0]}; "
                                    "resume with the same value or train into a new --run-dir")
            else:
                self._reuse_tokenizer = (saved.data.train == self.recipe.data.train and not any(
                    change.startswith("tokenizer.") for change in changes))
                log.warning("%s has no checkpoint: starting it afresh%s", self.run.path,
                            f" ({'; '.join(changes)})" if changes else "")
                if self.chief:
                    self.run.clear(keep_tokenizer=self._reuse_tokenizer)
        if self.chief:
            try:
                os.makedirs(self.run.path, exist_ok=True)
                save_recipe(self.recipe, self.run.recipe_path)
            except OSError as e:
                raise self.run.unwritable(e) from None

    def _prepare_data(self) -> None:
        """Loads or trains the tokenizers (on a sample drawn while streaming the training
        corpus), reads the dev set, and checks that the training stream yields a pair."""
        data, config, split = self.recipe.data, self.recipe.tokenizer, self.recipe.data.train
        self.limits = Limits(data.max_src_tokens, data.max_tgt_tokens)
        if self._reuse_tokenizer and os.path.isdir(self.run.tokenizer_dir):
            tokenizers = load_tokenizers(config, self.run.tokenizer_dir)
        else:  # the sample and SentencePiece are deterministic: every worker gets the same model
            tokenizers, sample = train_recipe_tokenizers(
                self.recipe, os.path.join(self.write_dir, "tokenizer"))
            _log_over_limits(sample, tokenizers, self.limits, _name(split))
            del sample
        self.tokenizers = tokenizers
        self.source_tokenizer, self.target_tokenizer = tokenizers
        self.valid = _read(data.valid)
        with _data_errors():
            first = next(iter(token_pairs(split, tokenizers, self.limits).take(1)), None)
        if first is None:
            raise UserError(f"{_name(split)}: every training pair is over the length limits "
                            f"data.max_src_tokens={self.limits.source}, "
                            f"data.max_tgt_tokens={self.limits.target}")

    def _restore(self) -> None:
        """Resumes from the newest readable checkpoint (the chief's, also for the other workers);
        a damaged one (a truncated file) is skipped with a warning."""
        state = tf.train.get_checkpoint_state(self.run.checkpoint_dir)
        paths = list(state.all_model_checkpoint_paths) if state else []
        for path in reversed(paths):
            try:
                self.checkpoint.restore(path).assert_existing_objects_matched()
            except (tf.errors.OpError, AssertionError, ValueError, IndexError) as e:
                log.warning("%s cannot be read (%s); trying the previous checkpoint", path,
                            str(e).splitlines()[0])
                continue
            log.info("resumed from %s at step %d", path, int(self.step))
            return
        if paths:
            raise UserError(f"{self.run.checkpoint_dir}: no readable checkpoint among "
                            f"{', '.join(map(os.path.basename, paths))}; train into a new "
                            "--run-dir")

    # -- the step ----------------------------------------------------------------------------

    def _replica_step(self, source, target_in, target_out, epochs):
        """One replica's forward and backward pass; gradients summed over replicas.

        Returns:
          the replica's share of the loss, the gradient norm, the global batch's counts
          (source tokens, target tokens, target positions including padding), and the epoch:
          the pass of the newest pair, the lowest over the replicas (so that every worker
          counts epochs alike; a replica given no pair does not count).
        """
        context = tf.distribute.get_replica_context()
        newest = tf.where(tf.size(epochs) > 0, tf.reduce_max(epochs), tf.int64.max)
        epoch = tf.reduce_min(context.all_gather(tf.reshape(newest, [1]), axis=0))
        train = self.recipe.train
        local_counts = tf.stack([
            tf.reduce_sum(tf.cast(tf.not_equal(source, PAD_ID), tf.float32)),
            tf.reduce_sum(tf.cast(tf.not_equal(target_out, PAD_ID), tf.float32)),
            tf.cast(tf.size(target_out), tf.float32)])
        counts = context.all_reduce(_SUM, local_counts)  # (3,)
        scale = self.optimizer.dynamic_scale if self.loss_scaling else 1.0
        loss, gradients = self._gradients(source, target_in, target_out, counts[1],
                                          tf.convert_to_tensor(scale, tf.float32))
        variables = self.model.trainable_variables
        gradients = context.all_reduce(_SUM, gradients)
        # Clipping the scaled gradients at a scaled norm; the optimizer unscales (and skips the
        # step when the loss scale made them overflow).
        gradients, norm = tf.clip_by_global_norm(gradients, train.clip_norm * scale)
        norm = norm / scale
        # The Keras optimizer sums gradients over replicas once more: hand it each one's share.
        replicas = self.strategy.num_replicas_in_sync
        if replicas > 1:
            gradients = [g / replicas for g in gradients]
        self.optimizer.apply(gradients, variables)
        return loss, norm, counts, epoch

    def _forward_backward(self, source, target_in, target_out, global_tokens, scale):
        """Loss share of this replica's batch and its gradients (times the loss scale)."""
        with tf.GradientTape() as tape:
            loss_sum, _ = token_loss(self.model, source, target_in, target_out,
                                     self.recipe.train.label_smoothing, training=True,
                                     only_tokens=not self.recipe.train.xla)
            loss = loss_sum / global_tokens
            scaled_loss = loss * scale
        # Dense embedding gradients: repeated tokens summed, so the global norm is the true one.
        gradients = tape.gradient(scaled_loss, self.model.trainable_variables)
        return loss, [tf.convert_to_tensor(g) for g in gradients]

    def _make_train_step(self, element_spec):
        @tf.function(input_signature=[element_spec], autograph=False)  # as Translator.translate
        def train_step(batch):
            loss, norm, counts, epoch = self.strategy.run(self._replica_step, args=batch)
            self.step.assign_add(1)
            first = self.strategy.experimental_local_results  # equal on all replicas
            return (self.strategy.reduce(_SUM, loss, axis=None), first(norm)[0],
                    first(counts)[0], first(epoch)[0])
        return train_step

    # -- the loop ----------------------------------------------------------------------------

    def train(self) -> dict:
        """Trains until ``max_steps``, ``max_epochs`` or early stopping. Returns the final record:
        the best checkpoint's dev (and test) scores."""
        train = self.recipe.train
        batches_in = iter(self._distributed_batches(seed=train.seed + int(self.step)))
        train_step = self._make_train_step(batches_in.element_spec)
        meter, progress = Meter(), Progress(train.max_steps, enabled=self.chief)
        first_step = int(self.step)
        self._loop(train_step, batches_in, meter, progress)
        if int(self.step) > first_step:
            self._select(self.evaluate())  # the last weights compete too
        self._save_final()
        record = progress.show(self._final_evaluation())
        if not self.chief:
            shutil.rmtree(self.write_dir, ignore_errors=True)
        return record

    def _loop(self, train_step, batches_in, meter: Meter, progress: Progress) -> None:
        """Steps, logs, evaluates and saves until :meth:`_done` or early stopping.

        Raises:
          TrainingInterrupted: SIGINT or SIGTERM arrived; the step finished and was saved.
        """
        train = self.recipe.train
        with StopRequests(enabled=num_workers(self.strategy) == 1) as stop_requests:
            while not self._done():
                loss, norm, counts, epoch = train_step(self._next_batch(batches_in))
                step = int(self.step)
                self.epoch.assign(max(int(self.epoch), int(epoch)))
                meter.add(float(loss), counts.numpy().tolist())
                progress.update(step, int(self.epoch))
                if step % train.log_every == 0:
                    progress.show(self._log_train(step, meter, float(norm)))
                stop = False
                if step % train.eval_every == 0:
                    stop = self._select(progress.show(self.evaluate()))
                    meter.reset()  # evaluation time is not training throughput
                if step % train.checkpoint_every == 0 or stop or stop_requests.received:
                    _save(self.manager, step)  # every worker, as MWMS requires
                if stop_requests.received:
                    raise TrainingInterrupted(
                        f"stopped by {signal.Signals(stop_requests.received).name} at step "
                        f"{step}; saved {self.manager.latest_checkpoint}: run the same "
                        "`translit train` command to resume from it", stop_requests.received)
                if stop:
                    self._log(progress.show({"type": "early_stopping", "step": step,
                                             "evaluations": int(self.bad_evaluations)}))
                    return

    def _distributed_batches(self, seed: int):
        """The training batches for every replica; ``seed`` shuffles them (a resumed run passes
        another, to reshuffle).

        One worker splits each batch of ``batch_tokens`` between its replicas (so that a step
        is the same step on one device or several); several workers each read their own share
        of the corpus (see :class:`Shard`) in batches of ``batch_tokens`` / replicas.
        """
        train, replicas = self.recipe.train, self.strategy.num_replicas_in_sync

        def batches(budget: int, shard: Shard) -> tf.data.Dataset:
            return training_batches(self.recipe.data.train, self.tokenizers, self.limits,
                                    budget, train.shuffle_buffer, seed, int(self.epoch),
                                    train.xla, shard)

        if num_workers(self.strategy) == 1:
            options = tf.data.Options()
            options.experimental_distribute.auto_shard_policy = (
                tf.data.experimental.AutoShardPolicy.OFF)
            dataset = batches(train.batch_tokens, Shard()).with_options(options)
            return self.strategy.experimental_distribute_dataset(dataset)
        return self.strategy.distribute_datasets_from_function(
            lambda context: batches(max(1, train.batch_tokens // replicas),
                                    Shard(context.input_pipeline_id, context.num_input_pipelines)))

    def _next_batch(self, batches_in):
        """The next batch; bad data stops the training with the file and line named, after a
        checkpoint of what was trained (one worker; a cluster resumes from its last one)."""
        try:
            with _data_errors():
                return next(batches_in)
        except UserError as e:
            message = str(e)
        step = int(self.step)
        if num_workers(self.strategy) == 1 and step:
            self._save_final()
        latest = tf.train.latest_checkpoint(self.run.checkpoint_dir)
        kept = (f"training stopped at step {step}, last checkpoint {latest}" if latest
                else "training stopped before its first checkpoint")
        raise UserError(f"{message}; {kept}: fix the data (`translit corpus check` lists such "
                        "lines) and run the same command to resume") from None

    def _done(self) -> bool:
        train = self.recipe.train
        if train.early_stopping is not None and int(self.bad_evaluations) >= train.early_stopping:
            return True  # a resumed run that had stopped early
        if train.max_steps is not None and int(self.step) >= train.max_steps:
            return True
        return train.max_epochs is not None and int(self.epoch) >= train.max_epochs

    def _save_final(self) -> None:
        step = int(self.step)
        latest = self.manager.latest_checkpoint
        if latest is None or not latest.endswith(f"-{step}"):
            _save(self.manager, step)

    def _log_train(self, step: int, meter: Meter, grad_norm: float) -> dict:
        record = {"type": "train", "step": step, "epoch": int(self.epoch), **meter.summary(),
                  "grad_norm": round(grad_norm, 4),
                  "learning_rate": float(tf.convert_to_tensor(self.optimizer.learning_rate))}
        return self._log(record)

    def _log(self, record: dict) -> dict:
        """Stamps ``record`` with the time, appends it to metrics.jsonl and its numbers to
        TensorBoard as ``TYPE/KEY`` scalars (the chief only). Returns it."""
        record.setdefault("time", timestamp())
        if self.chief:
            self.run.log_metrics(record)
            with self._summaries.as_default(step=record["step"]):
                for key, value in record.items():
                    if key != "step" and isinstance(value, (int, float)):
                        # What tensorboard's scalar summary writes, without needing tensorboard.
                        tf.summary.write(f"{record['type']}/{key}", float(value),
                                         metadata=_SCALAR_METADATA)
            self._summaries.flush()
        return record

    @functools.cached_property
    def _summaries(self):
        return tf.summary.create_file_writer(os.path.join(self.run.path, "tensorboard"))

    # -- evaluation --------------------------------------------------------------------------

    def evaluate(self) -> dict:
        """Dev loss and scores (greedy) into metrics.jsonl, once per step.

        Every worker evaluates (they wait for each other anyway), so that all take the same
        early-stopping and learning-rate decisions; the chief writes.
        """
        step = int(self.step)
        if self._last_eval.get("step") != step:
            self._last_eval = {"type": "eval", "step": step, "valid_loss": self._dev_loss(),
                               **self._scores("valid", self.valid)}
            self._log(self._last_eval)
        return self._last_eval

    def _select(self, record: dict) -> bool:
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
            _save(self.best_manager, record["step"])
            return False
        self.bad_evaluations.assign_add(1)
        if train.plateau_factor < 1 and int(self.bad_evaluations) % train.plateau_patience == 0:
            self.plateau_scale.assign(self.plateau_scale * train.plateau_factor)
            log.info("dev %s has not improved for %d evaluations: learning rate scaled by %g",
                     train.valid_metric, int(self.bad_evaluations), float(self.plateau_scale))
        patience = train.early_stopping
        return patience is not None and int(self.bad_evaluations) >= patience

    def _final_evaluation(self) -> dict:
        """Dev and test scores of the best checkpoint, into metrics.jsonl."""
        best, step = self.best_manager.latest_checkpoint, int(self.step)
        record = {"type": "final", "checkpoint": best, "last_step": step,
                  "step": int(best.rsplit("-", 1)[1]) if best else step}
        if best and record["step"] != step:  # evaluate the best weights, not the last
            tf.train.Checkpoint(model=trackable_weights(self.model)).restore(best).expect_partial()
            record.update(valid_loss=self._dev_loss(), **self._scores("valid", self.valid))
        else:
            record.update({k: v for k, v in self.evaluate().items() if k.startswith("valid_")})
        if self.recipe.data.test is not None:
            record.update(self._scores("test", _read(self.recipe.data.test)))
        return self._log(record)

    def _scores(self, name: str, corpus) -> dict:
        hypotheses = self._translator.translate_lines(corpus.sources,
                                                        self.recipe.decode.batch_size)
        metrics = dict.fromkeys(("bleu", "chrf", *_metrics_for(self.recipe.train.valid_metric)))
        scores = scoring.score(hypotheses, corpus.targets, list(metrics))
        return {f"{name}_{metric}": result["score"] for metric, result in scores.items()}

    @functools.cached_property
    def _dev_batches(self) -> tf.data.Dataset:
        return evaluation_batches(self.recipe.data.valid, self.tokenizers, self.limits,
                                  self.recipe.train.batch_tokens)

    @functools.cached_property
    def _translator(self) -> Translator:
        """Greedy search on the training model (one graph, traced once)."""
        decode = dataclasses.replace(self.recipe.decode, beam_size=1)
        return Translator(self.model, self.source_tokenizer, self.target_tokenizer, decode,
                          max_source_tokens=self.recipe.data.max_translate_tokens)

    def _dev_loss(self) -> float:
        total, tokens = 0.0, 0.0
        for source, target_in, target_out in self._dev_batches:
            loss_sum, count = token_loss(self.model, source, target_in, target_out)
            total, tokens = total + float(loss_sum), tokens + float(count)
        return round(total / max(tokens, 1.0), 4)


def _save(manager: tf.train.CheckpointManager, step: int) -> None:
    """Saves a checkpoint; when the disk is full or read-only, removes its partial files and
    raises a UserError (the previous checkpoints stay valid for a resume)."""
    try:
        manager.save(checkpoint_number=step)
    except (tf.errors.OpError, OSError) as e:
        for path in glob.glob(os.path.join(manager.directory, f"ckpt-{step}[._]*")):
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
        reason = getattr(e, "message", None) or str(e)
        raise UserError(f"{manager.directory}: cannot write checkpoint {step} "
                        f"({reason.splitlines()[0]}); free disk space or make the directory "
                        "writable, then run the same command to resume from the last "
                        "checkpoint") from None


def _metrics_for(valid_metric: str):
    """Extra metrics to compute: accuracy comes with the character error rate."""
    return {"accuracy": ("accuracy", "cer")}.get(valid_metric, ())


def _read(split: Split):
    return read_parallel(split.src, split.tgt, split.tsv)


def _log_over_limits(sample, tokenizers, limits: Limits, name: str, size: int = 10_000):
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


@contextlib.contextmanager
def _data_errors():
    """Turns a data error of the tf.data pipelines into a UserError naming file and line."""
    try:
        yield
    except tf.errors.InvalidArgumentError as e:
        message = data_error(e)
        if message is None:
            raise
        raise UserError(message) from None


# Settings that only chose what a trained tokenizer learnt from: a run resumes whatever they say.
_SAMPLE_ONLY = {"tokenizer.max_training_sentences"}


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
    tokenizers = train_tokenizers(config, [pair[0] for pair in sample],
                                  [pair[1] for pair in sample], directory + ".tmp")
    os.replace(directory + ".tmp", directory)
    return tokenizers, sample


def train(recipe: Recipe, run_dir: str, strategy=None) -> dict:
    """Trains (or resumes) a run, holding its run directory's lock (the chief of a multi-worker
    job; the other workers do not write it). Returns the final evaluation record.

    Raises:
      UserError: bad input, another training holds the run directory, or out of memory (with
        the settings to reduce).
      TrainingInterrupted: SIGINT or SIGTERM stopped it after a checkpoint.
    """
    strategy = strategy or tf.distribute.get_strategy()
    lock = RunDir(run_dir).training_lock() if is_chief(strategy) else contextlib.nullcontext()
    with lock:
        trainer = None
        try:
            trainer = Trainer(recipe, run_dir, strategy)
            return trainer.train()
        except (tf.errors.ResourceExhaustedError, MemoryError) as e:
            # Keras keeps the variables it failed to create, for later initialization: drop them.
            keras.backend.clear_session()
            raise UserError(_out_of_memory(recipe, e, building=trainer is None)) from None
        except PEER_LOST as e:  # at the start (the variables' broadcast) or in a step
            if num_workers(strategy) == 1:
                raise
            raise UserError(
                f"a worker of the cluster stopped responding ({type(e).__name__}); the last "
                f"checkpoint is {RunDir(run_dir).latest_checkpoint()}: start every worker "
                "again with the same command to resume from it (if a worker printed an error, "
                "fix that first)") from None


def _out_of_memory(recipe: Recipe, error: Exception, building: bool) -> str:
    """What to reduce when building the model or a training step ran out of memory."""
    model, text = recipe.model, str(error).strip()
    detail = re.search(r"OOM when allocating tensor with shape\[[^\]]*\]", text)
    reason = detail.group(0) if detail else (text.splitlines() or [""])[0]
    sizes = (f"model.units={model.units}, model.embedding_dim={model.embedding_dim}, "
             f"model.layers={model.layers}")
    if building:
        return (f"out of memory while building the model ({type(error).__name__}: {reason}); "
                f"it is too large for this machine: reduce {sizes}")
    return (f"out of memory in a training step ({type(error).__name__}: {reason}); reduce "
            f"train.batch_tokens={recipe.train.batch_tokens}, or the model: {sizes}")
