"""Forced decoding: the model log-probability of given translations (``translit score --model``).

Useful to rerank candidates, to filter a corpus, or to compare models on references.
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

import tensorflow as tf

from translit.errors import UserError
from translit.tokenizers import PAD_ID, source_ids, target_ids


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
        logits = tf.cast(self.model.forced(source, target_in)[0], tf.float32)
        token_log_probs = -tf.nn.sparse_softmax_cross_entropy_with_logits(target_out, logits)
        mask = tf.cast(tf.not_equal(target_out, PAD_ID), tf.float32)  # (batch, tgt_time)
        return tf.reduce_sum(token_log_probs * mask, axis=1), tf.reduce_sum(mask, axis=1)

    def score_lines(self, sources: Sequence[str], targets: Sequence[str],
                    batch_size: int) -> List[Tuple[float, int]]:
        """(log-probability, tokens) per pair, in input order."""
        if len(sources) != len(targets):
            raise UserError(f"Received {len(sources)} source and {len(targets)} target lines, "
                            "expected the same number")
        results = []
        for start in range(0, len(sources), batch_size):
            log_probs, tokens = self.score(tf.constant(list(sources[start:start + batch_size])),
                                           tf.constant(list(targets[start:start + batch_size])))
            results += [(float(p), int(n)) for p, n in zip(log_probs.numpy(), tokens.numpy())]
        return results
