"""tf.data pipelines: tokenize once, drop over-long pairs, shuffle, bucket by length, batch by
a token budget, right-pad.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import List

import numpy as np
import tensorflow as tf

from translit.corpus import ParallelCorpus
from translit.tokenizers import Tokenizer, source_ids, target_ids

log = logging.getLogger(__name__)
_CHUNK = 8192  # sentences tokenized per eager call


@dataclass
class EncodedCorpus:
    """Token ids per pair: source pieces + EOS, target BOS + pieces + EOS."""

    sources: List[np.ndarray]
    targets: List[np.ndarray]
    dropped_too_long: int = 0

    def __len__(self) -> int:
        return len(self.sources)


def encode_corpus(corpus: ParallelCorpus, source_tokenizer: Tokenizer,
                  target_tokenizer: Tokenizer, max_src_tokens: int, max_tgt_tokens: int,
                  name: str = "corpus") -> EncodedCorpus:
    """Tokenizes a corpus and drops the pairs over the length limits (counted and logged)."""
    sources = _encode(corpus.sources, lambda t: source_ids(source_tokenizer, t))
    targets = _encode(corpus.targets, lambda t: target_ids(target_tokenizer, t))
    encoded = EncodedCorpus([], [])
    for source, target in zip(sources, targets):
        if len(source) - 1 <= max_src_tokens and len(target) - 2 <= max_tgt_tokens:
            encoded.sources.append(source)
            encoded.targets.append(target)
        else:
            encoded.dropped_too_long += 1
    if encoded.dropped_too_long:
        log.warning("%s: dropped %d of %d pairs over the length limits (%d source, %d target "
                    "tokens)", name, encoded.dropped_too_long, len(sources), max_src_tokens,
                    max_tgt_tokens)
    return encoded


def _encode(texts: List[str], to_ids) -> List[np.ndarray]:
    rows = []
    for start in range(0, len(texts), _CHUNK):
        ragged = to_ids(tf.constant(texts[start:start + _CHUNK]))
        values, splits = ragged.flat_values.numpy(), ragged.row_splits.numpy()
        rows.extend(np.split(values, splits[1:-1]))
    return rows


def batches(encoded: EncodedCorpus, batch_tokens: int, shuffle_buffer: int = 0,
            seed: int = 0, fixed_shapes: bool = False, repeat: bool = False) -> tf.data.Dataset:
    """Batches of (source (batch, src_time), target_in (batch, tgt_time), target_out).

    A batch holds at most ``batch_tokens`` tokens of its longer side, padding included (one
    sentence at least); pairs whose longer side has the same length are batched together. With
    ``shuffle_buffer`` > 0, pairs and batches are reshuffled on every pass. With
    ``fixed_shapes``, both sides are padded to the end of their length bucket, so that batches
    come in a few shapes only (for XLA, which compiles each shape once). With ``repeat``, the
    pairs are read endlessly before they are batched, so that no pass ends in part-filled
    batches of every length.
    """
    dataset = tf.data.Dataset.from_tensor_slices((_ragged(encoded.sources),
                                                  _ragged(encoded.targets))).map(_dense)
    if shuffle_buffer:
        dataset = dataset.shuffle(min(shuffle_buffer, len(encoded)), seed=seed,
                                  reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    longest = max(max(len(s), len(t)) for s, t in zip(encoded.sources, encoded.targets))
    dataset = dataset.apply(_bucket_by_tokens(batch_tokens, longest, fixed_shapes))
    if shuffle_buffer:
        dataset = dataset.shuffle(64, seed=seed + 1, reshuffle_each_iteration=True)
    return dataset.map(_teacher_forcing).prefetch(tf.data.AUTOTUNE)


def _ragged(rows: List[np.ndarray]) -> tf.RaggedTensor:
    values = np.concatenate(rows).astype(np.int32)
    return tf.RaggedTensor.from_row_lengths(values, [len(r) for r in rows])


def _dense(source, target):
    """Slices of a RaggedTensor arrive as 1-D tensors typed ragged; padded_batch wants dense."""
    return tf.identity(source), tf.identity(target)


def _bucket_by_tokens(batch_tokens: int, longest: int, fixed_shapes: bool):
    """One bucket per length (the longer side is never padded); with ``fixed_shapes``, 16
    buckets about 1/16 of the longest pair wide. Batch size = budget // bucket end."""
    width = max(2, -(-longest // 16)) if fixed_shapes else 1
    last = longest + width if fixed_shapes else longest  # padding needs a bucket end above all
    boundaries = list(range(width + 1, last + 1, width))
    sizes = [max(1, batch_tokens // (end - 1)) for end in boundaries + [longest + 1]]
    return lambda dataset: dataset.bucket_by_sequence_length(
        lambda s, t: tf.maximum(tf.shape(s)[0], tf.shape(t)[0]), boundaries, sizes,
        pad_to_bucket_boundary=fixed_shapes)


def _teacher_forcing(source, target):
    return source, target[:, :-1], target[:, 1:]
