"""tf.data pipelines: corpus files streamed as text, checked and tokenized in the graph,
over-long pairs dropped, shuffled in a bounded buffer, bucketed by length, batched by a token
budget, right-padded.

Memory is bounded by the buffers (shuffle, buckets, prefetch), never by the corpus: nothing is
read into Python. A problem in the data (a line that is not UTF-8, a TSV line without a tab,
files of different lengths) stops the stream with an error that :func:`data_error` turns into
``PATH:LINE: what is wrong``.
"""

from __future__ import annotations

import codecs
import contextlib
import re
from dataclasses import dataclass
from typing import Iterator, Optional, Tuple

import tensorflow as tf

from translit.data.corpus import corpus_files
from translit.data.tokenizers import Tokenizer, source_ids, target_ids
from translit.errors import UserError
from translit.recipe import Split

_MARK = "@@translit-data@@"  # brackets the message of a data error raised in the graph
_LINES_PER_CALL = 512  # lines checked, and pairs tokenized, per vectorized call
# What Python's str.strip removes: Unicode white space, including \x1c-\x1f and U+0085.
_SPACE = r"[\s\x{0b}\x{1c}-\x{1f}\x{85}\pZ]"
_EPOCHS = 2 ** 62  # "endless": passes over the data are counted up to this
# The pipelines' functions are TensorFlow ops already: tracing them without autograph saves
# seconds at every start.
_ops = tf.autograph.experimental.do_not_convert


@dataclass(frozen=True)
class Shard:
    """The share of a corpus one input pipeline reads: with at least ``count`` files, every
    ``count``-th file from the ``index``-th; with fewer, every ``count``-th pair."""

    index: int = 0
    count: int = 1


@dataclass(frozen=True)
class LengthLimits:
    """Pairs with more source or target pieces (specials not counted) are left out."""

    source: int
    target: int

    def fits(self, source: tf.RaggedTensor, target: tf.RaggedTensor) -> tf.Tensor:
        """(pairs,) bool: which pairs of source ids (pieces + EOS) and target ids (BOS + pieces
        + EOS), both (pairs, None), are within the limits."""
        return ((source.row_lengths() - 1 <= self.source)
                & (target.row_lengths() - 2 <= self.target))

    @property
    def longest(self) -> int:
        """The longest side a kept pair can have, specials included (target: BOS and EOS)."""
        return max(self.source + 1, self.target + 2)


def data_error(error: tf.errors.OpError) -> Optional[str]:
    """The ``PATH:LINE: ...`` message of a data error raised by these pipelines, else None."""
    found = re.search(re.escape(_MARK) + r"(.*?)" + re.escape(_MARK), error.message or "",
                      re.DOTALL)
    if not found:
        return None
    # The assertion's message came C-escaped (quotes, non-ASCII bytes of a path).
    return codecs.escape_decode(found.group(1).encode("utf-8"))[0].decode("utf-8", "replace")


@contextlib.contextmanager
def data_errors() -> Iterator[None]:
    """Turns a data error of these pipelines into a UserError naming the file and the line."""
    try:
        yield
    except tf.errors.InvalidArgumentError as e:
        message = data_error(e)
        if message is None:
            raise
        raise UserError(message) from None


def text_pairs(split: Split, shard: Shard = Shard(), seed=None) -> tf.data.Dataset:
    """(source, target) string scalars of a corpus, sides stripped, pairs with an empty side
    left out: the pairs :func:`translit.data.corpus.stream_pairs` yields, read by tf.data."""
    return line_batches(split, shard, seed).unbatch()


def line_batches(split: Split, shard: Shard = Shard(), seed=None) -> tf.data.Dataset:
    """Batches of (sources (lines,), targets (lines,)) strings: the pairs of :func:`text_pairs`,
    read, checked and filtered a few hundred lines at a time.

    Args:
      shard: the share to read.
      seed: when given, several files are read in an order shuffled with it (int or tensor).
    """
    files = corpus_files(split.src, split.tgt, split.tsv)
    by_file = len(files) >= shard.count
    if by_file:
        files = files[shard.index::shard.count]
    columns = [list(column) for column in zip(*files)]  # [[src...], [tgt...]] or [[tsv...]]
    dataset = tf.data.Dataset.from_tensor_slices((*columns, list(range(len(files)))))
    if seed is not None and len(files) > 1:
        dataset = dataset.shuffle(len(files), seed=seed)
    line_shard = shard if not by_file else Shard()
    read = _tsv_pairs if split.tsv is not None else _file_pairs
    return dataset.flat_map(_ops(lambda *file: read(*file, line_shard)))


def _file_pairs(src, tgt, file_index, shard: Shard) -> tf.data.Dataset:
    """Batches of the checked, stripped line pairs of two aligned files (string scalars)."""
    def batches_then_empty(path):  # batches of lines, then empty batches forever
        lines = tf.data.TextLineDataset(path, compression_type=_compression(path))
        return lines.batch(_LINES_PER_CALL).concatenate(
            tf.data.Dataset.from_tensors(tf.zeros([0], tf.string)).repeat())

    both = tf.data.Dataset.zip(batches_then_empty(src), batches_then_empty(tgt)).enumerate()
    both = both.take_while(_ops(lambda index, sides: tf.size(sides[0]) + tf.size(sides[1]) > 0))

    def check(index, sides):  # sides: (lines,) strings each
        sources, targets = sides
        count = tf.minimum(tf.size(sources), tf.size(targets))
        numbers = index * _LINES_PER_CALL + 1 + tf.range(count, dtype=tf.int64)  # from 1
        source_goes_on = tf.size(sources) > count
        _fail_unless(tf.size(sources) == tf.size(targets), [
            tf.where(source_goes_on, tgt, src), " ends after line ",
            _text(index * _LINES_PER_CALL + tf.cast(count, tf.int64)), " but ",
            tf.where(source_goes_on, src, tgt), " goes on; the files must be aligned line by "
            "line"])
        sources = _strip(_checked(src, numbers, sources[:count]))
        targets = _strip(_checked(tgt, numbers, targets[:count]))
        return _kept(sources, targets, numbers, file_index, shard)

    return both.map(_ops(check))


def _tsv_pairs(path, file_index, shard: Shard) -> tf.data.Dataset:
    """Batches of the checked (source, target) columns of a TSV file's lines."""
    lines = tf.data.TextLineDataset(path, compression_type=_compression(path))

    def split(index, texts):  # (lines,) strings
        numbers = index * _LINES_PER_CALL + 1 + tf.range(tf.size(texts, tf.int64))
        texts = _checked(path, numbers, texts)
        columns = tf.strings.split(texts, "\t")  # (lines, None)
        ok = (columns.row_lengths() > 1) | (tf.strings.length(_strip(texts)) == 0)
        first = numbers[tf.argmin(tf.cast(ok, tf.int32))]
        _fail_unless(tf.reduce_all(ok), [path, ":", _text(first),
                                         ": expected 'source<TAB>target', found no tab"])
        padded = columns.to_tensor("", shape=[None, 2])  # (lines, 2)
        return _kept(_strip(padded[:, 0]), _strip(padded[:, 1]), numbers, file_index, shard)

    return lines.batch(_LINES_PER_CALL).enumerate().map(_ops(split))


def _kept(sources, targets, numbers, file_index, shard: Shard):
    """The pairs without an empty side; with ``shard.count`` > 1, only those whose line number
    plus file index falls into the shard."""
    keep = (tf.strings.length(sources) > 0) & (tf.strings.length(targets) > 0)
    if shard.count > 1:
        keep &= (numbers + tf.cast(file_index, tf.int64)) % shard.count == shard.index
    return tf.boolean_mask(sources, keep), tf.boolean_mask(targets, keep)


def _checked(path, numbers, lines):
    """Lines checked for UTF-8 (the first bad one named), a first line's byte order mark
    removed."""
    valid = tf.equal(tf.strings.unicode_transcode(lines, "UTF-8", "UTF-8", errors="replace"),
                     lines)
    first = numbers[tf.argmin(tf.cast(valid, tf.int32))]
    _fail_unless(tf.reduce_all(valid), [path, ":", _text(first), ": not valid UTF-8; convert "
                                        "the file to UTF-8, e.g. with iconv"])
    return tf.where(numbers == 1, tf.strings.regex_replace(lines, "^\ufeff", ""), lines)


def _strip(texts):
    return tf.strings.regex_replace(texts, f"^{_SPACE}+|{_SPACE}+$", "")


def _fail_unless(condition, parts) -> None:
    tf.debugging.Assert(condition, [tf.strings.join([_MARK, *parts, _MARK])])


def _text(number):
    return tf.strings.as_string(number)


def _compression(path):
    return tf.where(tf.strings.regex_full_match(path, r".*\.gz"), "GZIP", "")


def token_pairs(split: Split, tokenizers: Tuple[Tokenizer, Tokenizer], limits: LengthLimits,
                shard: Shard = Shard(), seed=None) -> tf.data.Dataset:
    """(source ids (src_time,), target ids (tgt_time,)) of a corpus's pairs within ``limits``:
    source pieces + EOS, BOS + target pieces + EOS, tokenized in parallel in the graph."""
    source_tokenizer, target_tokenizer = tokenizers

    def tokenize(sources, targets):  # (pairs,) strings -> two (pairs, None) ragged ids
        source, target = source_ids(source_tokenizer, sources), target_ids(target_tokenizer,
                                                                           targets)
        keep = limits.fits(source, target)
        return tf.ragged.boolean_mask(source, keep), tf.ragged.boolean_mask(target, keep)

    pairs = line_batches(split, shard, seed)
    return (pairs.map(_ops(tokenize), num_parallel_calls=tf.data.AUTOTUNE).unbatch()
            .map(_ops(lambda source, target: (tf.identity(source), tf.identity(target)))))


def training_batches(split: Split, tokenizers, limits: LengthLimits, batch_tokens: int,
                     shuffle_buffer: int, seed: int, first_epoch: int = 0,
                     fixed_shapes: bool = False, shard: Shard = Shard(),
                     bucket_width: int = 1) -> tf.data.Dataset:
    """An endless stream of shuffled training batches, pass after pass over the corpus.

    Each pass (epoch) reads the files again, in a new order when there are several, and
    shuffles the pairs in a buffer of ``shuffle_buffer`` with its own seed. Batches come from
    buckets of ``bucket_width`` lengths (see :func:`_bucket_by_tokens`).

    Returns:
      batches of (source (batch, src_time), target_in (batch, tgt_time), target_out, epochs
      (batch,)), ``epochs`` being the pass of each pair, from ``first_epoch`` on.
    """
    def one_pass(epoch):
        pass_seed = seed + 7919 * epoch
        # Each pass is bucketed on its own, so that its end flushes the buckets: every pair is
        # trained once a pass, however rare its length. Bucketing the endless stream instead
        # left the pairs of a rare length waiting many passes for a batch of their own.
        return (token_pairs(split, tokenizers, limits, shard, seed=pass_seed)
                .shuffle(shuffle_buffer, seed=pass_seed)
                .map(_ops(lambda source, target: (source, target, epoch)))
                .apply(_bucket_by_tokens(batch_tokens, limits.longest, fixed_shapes,
                                         bucket_width)))

    # No shuffle of the batches: it would read passes ahead and blur the epoch; the pairs come
    # shuffled, so buckets fill, and batches leave, in random order.
    dataset = tf.data.Dataset.range(first_epoch, _EPOCHS).flat_map(_ops(one_pass))
    return dataset.map(_ops(lambda source, target, epochs: (
        *_teacher_forcing(source, target), epochs))).prefetch(tf.data.AUTOTUNE)


def evaluation_batches(split: Split, tokenizers, limits: LengthLimits,
                       batch_tokens: int) -> tf.data.Dataset:
    """Batches of (source, target_in, target_out) of a corpus, tokenized once and cached."""
    dataset = token_pairs(split, tokenizers, limits)
    dataset = dataset.apply(_bucket_by_tokens(batch_tokens, limits.longest, False))
    return dataset.map(_ops(_teacher_forcing)).cache()


def _bucket_by_tokens(batch_tokens: int, longest: int, fixed_shapes: bool,
                      bucket_width: int = 1):
    """Buckets of ``bucket_width`` lengths of the longer side (1: one bucket per length, never
    padded); with ``fixed_shapes``, 16 buckets about 1/16 of the longest pair wide (or
    ``bucket_width``, if wider), padded to the bucket's end. Batch size = budget // bucket end,
    so that a batch holds at most ``batch_tokens`` of the longer side, padding included."""
    width = max(2, -(-longest // 16), bucket_width) if fixed_shapes else bucket_width
    last = longest + width if fixed_shapes else longest  # padding needs a bucket end above all
    boundaries = list(range(width + 1, last + 1, width))
    sizes = [max(1, batch_tokens // (end - 1)) for end in boundaries + [longest + 1]]
    return lambda dataset: dataset.bucket_by_sequence_length(
        _ops(lambda source, target, *_: tf.maximum(tf.shape(source)[0], tf.shape(target)[0])),
        boundaries, sizes, pad_to_bucket_boundary=fixed_shapes)


def _teacher_forcing(source, target):
    return source, target[:, :-1], target[:, 1:]
