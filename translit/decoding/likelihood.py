"""Forced decoding: the model log-probability of given translations (``translit score --model``).

Useful to rerank candidates, to filter a corpus, or to compare models on references.
"""

from __future__ import annotations

import math
from typing import List, Sequence, Tuple

import tensorflow as tf

from translit.data.corpus import batched
from translit.data.tokenizers import source_ids, target_ids
from translit.errors import UserError
from translit.models.losses import masked_cross_entropy


class ForcedScorer(tf.Module):
    """Log-probabilities of target sentences given source sentences, in one graph.

    Args:
      model: a trained :class:`translit.models.Seq2Seq`.
      source_tokenizer, target_tokenizer: the run's tokenizers.
      max_source_tokens: longer sources are cut to this many pieces.
    """

    def __init__(self, model, source_tokenizer, target_tokenizer, max_source_tokens: int):
        super().__init__(name="forced_scorer")
        self.model = model
        self.source_tokenizer = source_tokenizer
        self.target_tokenizer = target_tokenizer
        self.max_source_tokens = max_source_tokens

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)] * 2, autograph=False)
    def score(self, sources, targets):
        """(batch,) sources and targets -> (log-probabilities (batch,) with EOS, tokens (batch,)
        counting EOS)."""
        source = source_ids(self.source_tokenizer, sources, self.max_source_tokens).to_tensor()
        target = target_ids(self.target_tokenizer, targets).to_tensor()  # BOS ... EOS
        target_in, target_out = target[:, :-1], target[:, 1:]
        logits = self.model.forced(source, target_in)[0]  # (batch, tgt_time, vocab)
        loss, tokens = masked_cross_entropy(logits, target_out, axis=1)
        return -loss, tokens

    def score_lines(self, sources: Sequence[str], targets: Sequence[str],
                    batch_size: int) -> List[Tuple[float, int]]:
        """(log-probability, tokens) per pair, in input order; batches hold pairs of similar
        source length, which cuts padding."""
        if len(sources) != len(targets):
            raise UserError(f"Received {len(sources)} source and {len(targets)} target lines, "
                            "expected the same number")
        order = sorted(range(len(sources)), key=lambda i: (len(sources[i]), len(targets[i])))
        results: List[Tuple[float, int]] = [(0.0, 0)] * len(order)
        for indices in batched(order, batch_size):
            log_probs, tokens = self.score(tf.constant([sources[i] for i in indices]),
                                           tf.constant([targets[i] for i in indices]))
            for i, p, n in zip(indices, log_probs.numpy(), tokens.numpy()):
                results[i] = (float(p), int(n))
        return results


def forced_scores(run_dir: str, sources: Sequence[str], targets: Sequence[str],
                  checkpoint: str | None = None, batch_size: int = 64) -> dict:
    """The model log-probability of each target given its source, under a run's model.

    Returns:
      {"scores": [(log-probability, tokens counting EOS)] per pair, "sentences", "tokens",
      "log_prob" (the sum), "log_prob_per_token", "perplexity"}.
    """
    from translit.decoding.translator import load_model
    from translit.runs.directory import RunDir

    run = RunDir(run_dir)
    recipe = run.load_recipe()
    model, tokenizers = load_model(run, recipe, checkpoint)
    scorer = ForcedScorer(model, *tokenizers, max_source_tokens=recipe.data.max_translate_tokens)
    results = scorer.score_lines(sources, targets, batch_size)
    total, tokens = sum(p for p, _ in results), sum(n for _, n in results)
    return {"scores": results, "sentences": len(results), "tokens": tokens,
            "log_prob": round(total, 4), "log_prob_per_token": round(total / max(tokens, 1), 4),
            "perplexity": round(math.exp(-total / max(tokens, 1)), 4)}
