"""Choosing each word's transliteration in the context of the words before it, with a
word-level language model of the target script (a ``model.kind: lm`` run).

For every line, left to right, each word's candidates (its beam, best first) are ranked by their
score + ``weight`` × log P_LM(candidate | the candidates chosen before it); a candidate outside
the model's vocabulary gets an equal share of <unk>: log P_LM(<unk> | ...) − log(the number of
distinct words of the training text outside the vocabulary). All lines advance together, one
word position per call of the model, in batches of lines of similar word counts.
"""

from __future__ import annotations

import math
from typing import List, Sequence, Tuple

import numpy as np
import tensorflow as tf

from translit.errors import UserError
from translit.run_dir import RunDir
from translit.special_tokens import BOS_ID, PAD_ID, SPECIALS, UNK_ID

Scored = Tuple[str, float]
BATCH_LINES = 256


class WordLanguageModel:
    """A language model run loaded to score words in context.

    Args:
      run_dir: a run of a recipe with ``model.kind: lm`` and ``tokenizer.type: word``.
      weight: of log P_LM in the ranking.
    """

    def __init__(self, run_dir: str, weight: float):
        from translit.translator import load_model

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
        self.weight = weight
        self.path = run_dir

    def choose(self, lines: Sequence[Sequence[Sequence[Scored]]]) -> List[List[Scored]]:
        """Per line, per word, the chosen candidate: (text, its score + weight × log P_LM).

        Args: lines: per line, per word, the candidates (text, score), best first.
        """
        chosen: List[List[Scored]] = [[] for _ in lines]
        order = sorted(range(len(lines)), key=lambda i: len(lines[i]))
        for start in range(0, len(order), BATCH_LINES):
            batch = [i for i in order[start:start + BATCH_LINES] if lines[i]]
            if batch:
                for i, words in zip(batch, self._choose_batch([lines[i] for i in batch])):
                    chosen[i] = words
        return chosen

    def _choose_batch(self, lines) -> List[List[Scored]]:
        width = max(len(candidates) for words in lines for candidates in words)
        tokens = tf.fill([len(lines)], BOS_ID)
        _, state = self.model.encode(tf.zeros([len(lines), 1], tf.int32))
        chosen: List[List[Scored]] = [[] for _ in lines]
        rows = np.arange(len(lines))
        for position in range(max(len(words) for words in lines)):
            ids = np.full([len(lines), width], PAD_ID, np.int32)  # (lines, candidates)
            scores = np.full([len(lines), width], -np.inf)
            for row, words in enumerate(lines):
                if position < len(words):
                    candidates = words[position]
                    ids[row, :len(candidates)] = [self.ids.get(text, UNK_ID)
                                                  for text, _ in candidates]
                    scores[row, :len(candidates)] = [score for _, score in candidates]
            log_probs, state = _step(self.model, tokens, state, tf.constant(ids))
            log_probs = log_probs.numpy() + np.where(ids == UNK_ID, self.unknown_share, 0.0)
            totals = scores + self.weight * log_probs
            best = totals.argmax(axis=1)  # (lines,)
            for row, words in enumerate(lines):
                if position < len(words):
                    chosen[row].append((words[position][best[row]][0],
                                        float(totals[row, best[row]])))
            tokens = tf.constant(ids[rows, best])  # ended lines feed padding
        return chosen


@tf.function(reduce_retracing=True, autograph=False)
def _step(model, tokens, state, candidate_ids):
    """Feeds (lines,) tokens; returns log P of (lines, candidates) ids and the next state."""
    logits, state, _ = model.decode_step(tokens, state, {})
    log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)  # (lines, vocab)
    return tf.gather(log_probs, candidate_ids, batch_dims=1), state
