"""Choosing each word's transliteration in the context of the words before it, with a
word-level language model of the target script (a ``model.kind: lm`` run).

For every line, left to right, each word's candidates (its beam, best first) are scored by their
score + ``weight`` × log P_LM(candidate | the words before it); a candidate outside the model's
vocabulary gets an equal share of <unk>: log P_LM(<unk> | ...) − log(the number of distinct
words of the training text outside the vocabulary). A beam keeps the ``beam`` best word
sequences of each line by their summed scores (1: each word chosen given those chosen before
it). All lines advance together, one word position per call of the model, in batches of lines
of similar word counts.
"""

from __future__ import annotations

import math
from typing import List, Sequence

import numpy as np
import tensorflow as tf

from translit.data.special_tokens import BOS_ID, PAD_ID, SPECIALS, UNK_ID
from translit.decoding.hypothesis import Hypothesis
from translit.errors import UserError
from translit.runs.directory import RunDir

BATCH_LINES = 256
COMPILED_ROWS = 64  # rows from which the language model's step runs compiled by XLA


class WordLanguageModel:
    """A language model run loaded to score words in context.

    Args:
      run_dir: a run of a recipe with ``model.kind: lm`` and ``tokenizer.type: word``.
      weight: of log P_LM in the ranking.
      beam: word sequences kept per line (1: each word chosen given the words chosen before).
    """

    def __init__(self, run_dir: str, weight: float, beam: int = 1):
        from translit.decoding.translator import load_model

        run = RunDir(run_dir)
        try:
            recipe = run.load_recipe()
        except UserError as e:
            raise UserError(f"decode.lm (--lm): {e}; train it first (recipes/*_lm.yaml)") \
                from None
        if recipe.model.kind != "lm" or recipe.tokenizer.type != "word":
            raise UserError(f"decode.lm: {run_dir} is not a word-level language model (its "
                            "recipe needs model.kind: lm and tokenizer.type: word)")
        self.model, (_, tokenizer) = load_model(run, recipe)
        self.ids = {word: i for i, word in enumerate(tokenizer.words, start=len(SPECIALS))}
        self.unknown_share = -math.log(max(tokenizer.unknown_types, 1))
        self.weight, self.beam = weight, beam
        self.path = run_dir

    def choose(self, lines: Sequence[Sequence[Sequence[Hypothesis]]]) -> List[List[Hypothesis]]:
        """Per line, per word, the chosen candidate: (text, its score + weight × log P_LM).

        Args: lines: per line, per word, the candidates (text, score), best first.
        """
        chosen: List[List[Hypothesis]] = [[] for _ in lines]
        order = sorted(range(len(lines)), key=lambda i: -len(lines[i]))  # longest first
        for start in range(0, len(order), BATCH_LINES):
            batch = [i for i in order[start:start + BATCH_LINES] if lines[i]]
            if batch:
                for i, words in zip(batch, self._choose_batch([lines[i] for i in batch])):
                    chosen[i] = words
        return chosen

    def _choose_batch(self, lines) -> List[List[Hypothesis]]:
        """A beam of ``self.beam`` word sequences per line, advanced one word at a time.

        Args: lines, longest first: at each position the model runs for the lines that still
        have a word, the first rows (from ``COMPILED_ROWS`` on, their number rounded up to a
        power of two: the shapes of the compiled step).
        """
        count, beam = len(lines), self.beam
        width = max(len(candidates) for words in lines for candidates in words)
        lengths = np.array([len(words) for words in lines])
        rows = _rows(count * beam)
        tokens = np.full([rows], BOS_ID, np.int32)
        _, state = self.model.encode(tf.zeros([rows, 1], tf.int32))
        totals = np.full([count, beam], -np.inf)  # (lines, beam): one hypothesis to start
        totals[:, 0] = 0.0
        steps = []  # per position: parents, choices, word scores, each (lines, beam)
        for position in range(lengths.max()):
            going = int(np.sum(lengths > position))  # the first lines; the others ended
            if _rows(going * beam) < rows:
                rows = _rows(going * beam)
                state = tf.nest.map_structure(lambda s: s[:rows], state)
            compiled = rows >= COMPILED_ROWS
            ids, scores = self._candidates(lines, position, width)  # each (lines, width)
            padded_ids = np.full([rows, _bucket(width) if compiled else width], PAD_ID, np.int32)
            padded_ids[:going * beam, :width] = np.repeat(ids[:going], beam, axis=0)
            going_log_probs, state = (_compiled_step if compiled else _step)(
                self.model, tf.constant(tokens[:rows]), state, tf.constant(padded_ids))
            log_probs = np.zeros([count, beam, width])
            log_probs[:going] = going_log_probs.numpy()[:going * beam, :width].reshape(
                going, beam, width)
            unknown = np.where(ids == UNK_ID, self.unknown_share, 0.0)[:, None, :]
            in_context = scores[:, None, :] + self.weight * (log_probs + unknown)
            in_context[going:] = scores[going:][:, None, :]  # ended: carried over unchanged
            expanded = (totals[:, :, None] + in_context).reshape(count, beam * width)
            best = np.argsort(-expanded, axis=1, kind="stable")[:, :beam]  # (lines, beam)
            totals = np.take_along_axis(expanded, best, axis=1)
            steps.append((best // width, best % width,
                          np.take_along_axis(in_context.reshape(count, -1), best, axis=1)))
            if beam > 1:  # each hypothesis continues from its parent's state
                parents = np.arange(rows)
                parents[:going * beam] = (np.arange(going)[:, None] * beam
                                          + best[:going] // width).reshape(-1)
                state = tf.nest.map_structure(lambda s: tf.gather(s, parents), state)
            tokens[:count * beam] = np.take_along_axis(ids, best % width, axis=1).reshape(-1)
        return [_backtrack(words, steps, row) for row, words in enumerate(lines)]

    def _candidates(self, lines, position, width):
        """The candidates' word ids and scores at one position, padded to (lines, width). A
        line already ended has one candidate of score 0."""
        ids = np.full([len(lines), width], PAD_ID, np.int32)
        scores = np.full([len(lines), width], -np.inf)
        for row, words in enumerate(lines):
            if position < len(words):
                candidates = words[position]
                ids[row, :len(candidates)] = [self.ids.get(text, UNK_ID)
                                              for text, _ in candidates]
                scores[row, :len(candidates)] = [score for _, score in candidates]
            else:
                scores[row, 0] = 0.0
        return ids, scores


def _backtrack(words, steps, row) -> List[Hypothesis]:
    """The best hypothesis of one line: its words, each with its score in context."""
    chosen, hypothesis = [], 0  # the beam is sorted: the best is first
    for parents, choices, scores in reversed(steps):
        chosen.append((choices[row, hypothesis], scores[row, hypothesis]))
        hypothesis = parents[row, hypothesis]
    chosen.reverse()
    return [Hypothesis(candidates[choice][0], float(score))
            for candidates, (choice, score) in zip(words, chosen)]


def _rows(size: int) -> int:
    """The rows the model runs for ``size`` rows: from ``COMPILED_ROWS`` on, the next power of
    two (the few shapes of the compiled step)."""
    return 1 << (size - 1).bit_length() if size >= COMPILED_ROWS else size


def _bucket(size: int) -> int:
    """The next power of two from 8 (candidates per row of the compiled step)."""
    return max(8, 1 << (size - 1).bit_length())


def _log_probs_step(model, tokens, state, candidate_ids):
    """Feeds (rows,) tokens; returns log P of (rows, candidates) ids and the next state."""
    logits, state, _ = model.decode_step(tokens, state, {})
    log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)  # (rows, vocab)
    return tf.gather(log_probs, candidate_ids, batch_dims=1), state


# XLA fuses the log-softmax over the vocabulary: faster for many rows, slower for a few (a line
# typed at the service) than TensorFlow's kernels.
_step = tf.function(_log_probs_step, autograph=False, reduce_retracing=True)
_compiled_step = tf.function(_log_probs_step, autograph=False, jit_compile=True)
