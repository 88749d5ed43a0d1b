"""Training: a custom step under a tf.distribute strategy, and the loop that logs, evaluates
(:class:`translit.training.evaluation.Evaluator`), saves, stops and resumes.

The step (``tf.function`` + ``strategy.run`` + ``GradientTape`` + a Keras optimizer) is the same
for the default strategy, ``MirroredStrategy`` and ``MultiWorkerMirroredStrategy``; Keras 3's
``fit`` is not used because it fails under the multi-worker strategy (docs/architecture.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import shutil
import signal
from typing import Optional

import keras
import tensorflow as tf

from translit.data.pipeline import Shard, data_errors, training_batches
from translit.data.special_tokens import PAD_ID
from translit.errors import TrainingInterrupted, UserError
from translit.models import build_model, trackable_weights
from translit.models.losses import token_loss
from translit.recipe import Recipe
from translit.runs import checkpoints
from translit.runs.directory import RunDir
from translit.runs.metrics_log import MetricsLog
from translit.training.distribute import is_chief, num_workers, worker_scratch_dir
from translit.training.evaluation import Evaluator
from translit.training.precision import resolve_precision
from translit.training.preparation import build_optimizer, prepare
from translit.utils.interrupts import StopRequests
from translit.utils.progress import Meter, PassTally, Progress

log = logging.getLogger(__name__)
_SUM = tf.distribute.ReduceOp.SUM
# What collectives raise when a worker of the cluster died: TensorFlow's health check aborts them
# with UNAVAILABLE; a peer that restarted meanwhile gives FAILED_PRECONDITION.
PEER_LOST = (tf.errors.UnavailableError, tf.errors.FailedPreconditionError,
             tf.errors.DeadlineExceededError, tf.errors.CancelledError)


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
        self.data = prepare(recipe, self.run, self.write_dir, self.chief)
        source_tokenizer, target_tokenizer = self.data.tokenizers
        precision = resolve_precision(recipe.train.precision)
        self.loss_scaling = precision == "mixed_float16"
        # Counters live outside the strategy: one copy, updated in cross-replica context.
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        with self.strategy.scope():
            self.model = build_model(source_tokenizer.vocab_size, target_tokenizer.vocab_size,
                                     precision, **dataclasses.asdict(recipe.model))
        self.metrics = MetricsLog(self.run, enabled=self.chief)
        checkpoint_dir = os.path.join(self.write_dir, "checkpoints")
        self.evaluator = Evaluator(recipe, self.model, self.data.tokenizers, self.data.limits,
                                   self.data.valid, self.step, checkpoint_dir, self.metrics)
        with self.strategy.scope():
            self.optimizer = build_optimizer(recipe.train, self.model,
                                             self.evaluator.plateau_scale, self.loss_scaling)
        self.checkpoint = tf.train.Checkpoint(
            model=trackable_weights(self.model), optimizer=self.optimizer, step=self.step,
            epoch=self.epoch, **self.evaluator.state())
        self.manager = tf.train.CheckpointManager(self.checkpoint, checkpoint_dir,
                                                  max_to_keep=recipe.train.keep_checkpoints)
        path = checkpoints.restore_newest(self.checkpoint, self.run.checkpoint_dir)
        if path:  # the chief's newest checkpoint, for every worker
            log.info("resumed from %s at step %d", path, int(self.step))
        # XLA compiles the forward and backward pass (not the collectives), once per batch shape.
        self._gradients = (tf.function(self._forward_backward, jit_compile=True)
                           if recipe.train.xla else self._forward_backward)
        # On one replica it always compiles the update (one shape): Adam's element-wise passes
        # over the weights fused into one, 43 -> 19 ms a step for a 2 x 256 attention model's
        # 8.7 M weights on one CPU core.
        fuse_update = self.strategy.num_replicas_in_sync == 1 and not self.loss_scaling
        self._update = (tf.function(self._clip_and_update, jit_compile=True) if fuse_update
                        else self._clip_and_update)

    # -- the step ----------------------------------------------------------------------------

    def _replica_step(self, source, target_in, target_out, epochs):
        """One replica's forward and backward pass; gradients summed over replicas.

        Returns:
          the replica's share of the loss, the gradient norm, the global batch's counts
          (source tokens, target tokens, target positions including padding, pairs), and the
          epoch:
          the pass of the newest pair, the lowest over the replicas (so that every worker
          counts epochs alike; a replica given no pair does not count).
        """
        context = tf.distribute.get_replica_context()
        newest = tf.where(tf.size(epochs) > 0, tf.reduce_max(epochs), tf.int64.max)
        epoch = tf.reduce_min(context.all_gather(tf.reshape(newest, [1]), axis=0))
        local_counts = tf.stack([
            tf.reduce_sum(tf.cast(tf.not_equal(source, PAD_ID), tf.float32)),
            tf.reduce_sum(tf.cast(tf.not_equal(target_out, PAD_ID), tf.float32)),
            tf.cast(tf.size(target_out), tf.float32),
            tf.cast(tf.shape(source)[0], tf.float32)])
        counts = context.all_reduce(_SUM, local_counts)  # (4,)
        scale = self.optimizer.dynamic_scale if self.loss_scaling else 1.0
        normalizer = counts[3] if self.recipe.train.loss_normalization == "sentences" else None
        loss, gradients = self._gradients(source, target_in, target_out, counts[1], normalizer,
                                          tf.convert_to_tensor(scale, tf.float32))
        gradients = context.all_reduce(_SUM, gradients)
        norm = self._update(gradients, tf.convert_to_tensor(scale, tf.float32))
        return loss, norm, counts, epoch

    def _clip_and_update(self, gradients, scale):
        """Clips the summed gradients by their global norm and applies them. Returns the norm."""
        # Clipping the scaled gradients at a scaled norm; the optimizer unscales (and skips the
        # step when the loss scale made them overflow).
        gradients, norm = tf.clip_by_global_norm(gradients, self.recipe.train.clip_norm * scale)
        # The Keras optimizer sums gradients over replicas once more: hand it each one's share.
        replicas = self.strategy.num_replicas_in_sync
        if replicas > 1:
            gradients = [g / replicas for g in gradients]
        self.optimizer.apply(gradients, self.model.trainable_variables)
        return norm / scale

    def _forward_backward(self, source, target_in, target_out, global_tokens, normalizer,
                          scale):
        """This replica's share of the loss per target token, and the gradients (times the
        loss scale) of its summed loss divided by ``normalizer`` (the global batch's sentences)
        or, when None, by ``global_tokens``."""
        with tf.GradientTape() as tape:
            loss_sum, _ = token_loss(self.model, source, target_in, target_out,
                                     self.recipe.train.label_smoothing, training=True,
                                     only_tokens=not self.recipe.train.xla)
            loss = loss_sum / global_tokens
            objective = loss if normalizer is None else loss_sum / normalizer
            scaled_loss = objective * scale
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
            self.evaluator.select(self.evaluator.evaluate(int(self.step)))  # the last competes too
        self._save_final()
        record = progress.show(self.evaluator.final(int(self.step)))
        if not self.chief:
            shutil.rmtree(self.write_dir, ignore_errors=True)
        return record

    def _loop(self, train_step, batches_in, meter: Meter, progress: Progress) -> None:
        """Steps, logs, evaluates and saves until :meth:`_done` or early stopping.

        Raises:
          TrainingInterrupted: SIGINT or SIGTERM arrived; the step finished and was saved.
        """
        train = self.recipe.train
        tally = PassTally()  # a resumed run starts its pass over
        with StopRequests(enabled=num_workers(self.strategy) == 1) as stop_requests:
            while not self._done():
                loss, norm, counts, epoch = train_step(self._next_batch(batches_in))
                step = int(self.step)
                counts = counts.numpy().tolist()
                if int(epoch) > int(self.epoch):  # this batch begins a new pass
                    progress.show(self._log_epoch(int(epoch), step - 1, tally))
                    tally = PassTally()
                self.epoch.assign(max(int(self.epoch), int(epoch)))
                tally.add(counts)
                meter.add(float(loss), counts)
                progress.update(step, int(self.epoch))
                if step % train.log_every == 0:
                    progress.show(self._log_train(step, meter, float(norm)))
                stop = False
                if step % train.eval_every == 0:
                    stop = self.evaluator.select(progress.show(self.evaluator.evaluate(step)))
                    meter.reset()  # evaluation time is not training throughput
                if step % train.checkpoint_every == 0 or stop or stop_requests.received:
                    checkpoints.save(self.manager, step)  # every worker, as MWMS requires
                if stop_requests.received:
                    raise TrainingInterrupted(
                        f"stopped by {signal.Signals(stop_requests.received).name} at step "
                        f"{step}; saved {self.manager.latest_checkpoint}: run the same "
                        "`translit train` command to resume from it", stop_requests.received)
                if stop:
                    self.metrics.write(progress.show({
                        "type": "early_stopping", "step": step,
                        "evaluations": int(self.evaluator.bad_evaluations)}))
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
            return training_batches(self.recipe.data.train, self.data.tokenizers, self.data.limits,
                                    budget, train.shuffle_buffer, seed, int(self.epoch),
                                    train.xla, shard, train.bucket_width)

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
            with data_errors():
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
        if self.evaluator.stopped_early():
            return True
        if train.max_steps is not None and int(self.step) >= train.max_steps:
            return True
        return train.max_epochs is not None and int(self.epoch) >= train.max_epochs

    def _save_final(self) -> None:
        step = int(self.step)
        latest = self.manager.latest_checkpoint
        if latest is None or not latest.endswith(f"-{step}"):
            checkpoints.save(self.manager, step)

    def _log_epoch(self, epoch: int, step: int, tally: PassTally) -> dict:
        """The record of the ``epoch``-th pass, which ended at ``step``: what was trained in it
        (all workers together), to be checked against the corpus."""
        return self.metrics.write({"type": "epoch", "step": step, "epoch": epoch,
                                   **tally.summary()})

    def _log_train(self, step: int, meter: Meter, grad_norm: float) -> dict:
        return self.metrics.write({
            "type": "train", "step": step, "epoch": int(self.epoch), **meter.summary(),
            "grad_norm": round(grad_norm, 4),
            "learning_rate": float(tf.convert_to_tensor(self.optimizer.learning_rate))})


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
