"""Tokenization pipelines: Unicode normalization, then SentencePiece pieces or characters.

Both tokenizers are ``tf.Module`` objects whose ``tokenize`` and ``detokenize`` are TensorFlow
ops (tensorflow-text), so training, ``translate`` and an exported SavedModel tokenize identically.
Every vocabulary reserves the ids of :mod:`translit.data.special_tokens`.
"""

from __future__ import annotations

import collections
import io
import json
import os
from typing import Iterable, List, Optional, Sequence, Tuple

import sentencepiece as spm
import tensorflow as tf
import tensorflow_text as tf_text

from translit.data.special_tokens import BOS_ID, EOS_ID, PAD_ID, SPECIALS, UNK_ID
from translit.data.text_rules import CASE_FOLD, CONTROL_CHARACTERS, normalize
from translit.errors import UserError
from translit.recipe import TokenizerConfig
from translit.utils.native_log import native_stderr_hidden, quiet


class Tokenizer(tf.Module):
    """Strings to ids and back, in-graph. Subclasses set ``vocab_size``."""

    def __init__(self, normalization: str, name=None):
        super().__init__(name=name)
        self.normalization = normalization
        self.vocab_size = 0

    def normalize(self, texts: tf.Tensor) -> tf.Tensor:
        """(batch,) strings -> (batch,) strings: control characters as spaces, then Unicode
        normalization."""
        texts = tf.strings.regex_replace(texts, CONTROL_CHARACTERS, " ")
        if self.normalization == "none":
            return texts
        if self.normalization == CASE_FOLD:
            return tf_text.case_fold_utf8(texts)  # ICU's NFKC_Casefold
        return tf_text.normalize_utf8(texts, self.normalization)

    def tokenize(self, texts: tf.Tensor) -> tf.RaggedTensor:
        """(batch,) strings -> (batch, None) int32 ids, without BOS/EOS."""
        raise NotImplementedError

    def detokenize(self, ids: tf.RaggedTensor) -> tf.Tensor:
        """(batch, None) ids without specials -> (batch,) strings."""
        raise NotImplementedError

    def pieces(self, ids: tf.Tensor) -> tf.Tensor:
        """ids -> their pieces as strings, specials by name (for display)."""
        raise NotImplementedError

    def save(self, directory: str, stem: str) -> None:
        raise NotImplementedError


class SentencePieceTokenizer(Tokenizer):
    """A SentencePiece model (unigram or BPE) applied with tensorflow-text."""

    def __init__(self, model_proto: bytes, normalization: str):
        super().__init__(normalization)
        self.model_proto = model_proto
        with native_stderr_hidden(quiet()):  # SentencePiece logs the model's normalizer
            self._sp = tf_text.SentencepieceTokenizer(model=model_proto, out_type=tf.int32)
            self.vocab_size = int(self._sp.vocab_size())

    def tokenize(self, texts):
        return self._sp.tokenize(self.normalize(texts))

    def detokenize(self, ids):
        return self._sp.detokenize(ids)

    def pieces(self, ids):
        return self._sp.id_to_string(ids)

    def save(self, directory, stem):
        with open(os.path.join(directory, f"{stem}.model"), "wb") as f:
            f.write(self.model_proto)

    @classmethod
    def train(cls, sentences: Sequence[str], config: TokenizerConfig) -> "SentencePieceTokenizer":
        """Trains a SentencePiece model on already normalized sentences."""
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(sentences), model_writer=model,
            model_type=config.model_type, vocab_size=config.vocab_size,
            character_coverage=config.character_coverage,
            input_sentence_size=config.max_training_sentences, shuffle_input_sentence=True,
            pad_id=PAD_ID, unk_id=UNK_ID, bos_id=BOS_ID, eos_id=EOS_ID,
            normalization_rule_name="identity", hard_vocab_limit=False,
            num_threads=os.cpu_count() or 1, minloglevel=2)
        return cls(model.getvalue(), config.normalization)


class SidePieces(Tokenizer):
    """One side's view of a joint SentencePiece model: only the pieces that side's training
    text uses, renumbered densely after the specials (as OpenNMT-tf's per-side vocabularies of
    one SentencePiece model). Other pieces read as <unk>.

    Args:
      joint: the shared SentencePiece tokenizer.
      pieces: the SentencePiece ids this side keeps, specials included, ascending.
    """

    def __init__(self, joint: SentencePieceTokenizer, pieces: Sequence[int]):
        super().__init__(joint.normalization)
        self.joint, self.kept = joint, list(pieces)
        self.vocab_size = len(self.kept)
        to_side = [UNK_ID] * joint.vocab_size
        for side_id, piece in enumerate(self.kept):
            to_side[piece] = side_id
        self._to_side = tf.constant(to_side, tf.int32)  # (joint vocab,)
        self._to_joint = tf.constant(self.kept, tf.int32)  # (side vocab,)

    def tokenize(self, texts):
        return tf.gather(self._to_side, self.joint.tokenize(texts))

    def detokenize(self, ids):
        return self.joint.detokenize(tf.gather(self._to_joint, ids))

    def pieces(self, ids):
        return self.joint.pieces(tf.gather(self._to_joint, ids))

    def save(self, directory, stem):
        with open(os.path.join(directory, f"{stem}.pieces.json"), "w", encoding="utf-8") as f:
            json.dump(self.kept, f)

    @classmethod
    def used(cls, joint: SentencePieceTokenizer, sentences: Sequence[str]) -> "SidePieces":
        """The pieces of ``joint`` that normalized ``sentences`` use, and the specials."""
        processor = spm.SentencePieceProcessor(model_proto=joint.model_proto)
        used = {piece for ids in processor.encode(list(sentences)) for piece in ids}
        return cls(joint, sorted(used | set(range(len(SPECIALS)))))


class _TableTokenizer(Tokenizer):
    """A vocabulary of strings looked up in a table (ids after the specials); strings outside
    it map to <unk>. Detokenizing joins the strings with ``separator``, writes nothing for the
    specials and ``unknown`` for <unk>."""

    def __init__(self, tokens: Sequence[str], normalization: str, unknown: str, separator: str):
        super().__init__(normalization)
        self.tokens, self.separator = list(tokens), separator
        self.vocab_size = len(SPECIALS) + len(self.tokens)
        ids = tf.range(len(SPECIALS), self.vocab_size, dtype=tf.int32)
        self._table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tf.constant(self.tokens, tf.string), ids),
            default_value=UNK_ID)
        self._strings = tf.constant(["", unknown, "", ""] + self.tokens)

    def _lookup(self, strings: tf.RaggedTensor) -> tf.RaggedTensor:
        return tf.ragged.map_flat_values(self._table.lookup, strings)

    def detokenize(self, ids):
        return tf.strings.reduce_join(tf.gather(self._strings, ids), axis=-1,
                                      separator=self.separator)

    def pieces(self, ids):
        return tf.gather(tf.constant(list(SPECIALS) + self.tokens), ids)


class CharTokenizer(_TableTokenizer):
    """One id per Unicode character (transliteration); unseen characters map to <unk>, which
    detokenizes to U+FFFD."""

    def __init__(self, characters: Sequence[str], normalization: str):
        super().__init__(characters, normalization, unknown="\ufffd", separator="")
        self.characters = self.tokens

    def tokenize(self, texts):
        return self._lookup(tf.strings.unicode_split(self.normalize(texts), "UTF-8"))

    def save(self, directory, stem):
        with open(os.path.join(directory, f"{stem}.chars.json"), "w", encoding="utf-8") as f:
            json.dump(self.characters, f, ensure_ascii=False)

    @classmethod
    def train(cls, sentences: Sequence[str], config: TokenizerConfig) -> "CharTokenizer":
        """Keeps the ``vocab_size - 4`` most frequent characters of normalized sentences."""
        counts = collections.Counter(ch for s in sentences for ch in s)
        keep = max(config.vocab_size - len(SPECIALS), 1)
        characters = sorted(ch for ch, _ in counts.most_common(keep))
        return cls(characters, config.normalization)


class WordTokenizer(_TableTokenizer):
    """One id per word, a run of letters and marks (as text mode reads words); digits,
    punctuation and spacing are left out; words outside the vocabulary read as <unk>. For
    word-level language models.

    Args:
      vocabulary: {"words": the vocabulary, most frequent first, "unknown_types": how many
        other distinct words the training text held (they share <unk>)}.
    """

    # RE2 (in-graph): what is not a letter, a mark or a zero-width (non-)joiner separates words.
    SEPARATORS = r"[^\p{L}\p{M}\x{200C}\x{200D}]+"

    def __init__(self, vocabulary: dict, normalization: str):
        super().__init__(vocabulary["words"], normalization, unknown="<unk>", separator=" ")
        self.words, self.unknown_types = self.tokens, vocabulary["unknown_types"]

    def tokenize(self, texts):
        return self._lookup(tf_text.regex_split(self.normalize(texts), self.SEPARATORS))

    def save(self, directory, stem):
        with open(os.path.join(directory, f"{stem}.words.json"), "w", encoding="utf-8") as f:
            json.dump({"words": self.words, "unknown_types": self.unknown_types}, f,
                      ensure_ascii=False)

    @classmethod
    def train(cls, sentences: Sequence[str], config: TokenizerConfig) -> "WordTokenizer":
        """Keeps the ``vocab_size - 4`` most frequent words of normalized sentences."""
        from translit.data.words import split

        counts = collections.Counter(p.text for s in sentences for p in split(s) if p.is_word)
        keep = max(config.vocab_size - len(SPECIALS), 1)
        words = [word for word, _ in counts.most_common(keep)]
        return cls({"words": words, "unknown_types": len(counts) - len(words)},
                   config.normalization)


TOKENIZERS = {"sentencepiece": (SentencePieceTokenizer, ".model"),
              "char": (CharTokenizer, ".chars.json"), "word": (WordTokenizer, ".words.json")}


def normalize_text(texts: Iterable[str], form: str) -> List[str]:
    """Python-side normalization matching :meth:`Tokenizer.normalize` (for training)."""
    return [normalize(text, form) for text in texts]


def train_tokenizers(config: TokenizerConfig, sources: Sequence[str], targets: Sequence[str],
                     directory: str) -> Tuple[Tokenizer, Tokenizer]:
    """Trains the source and target tokenizers (one shared when ``joint``) and saves them.

    Returns:
      (source tokenizer, target tokenizer); the same object twice when joint.
    """
    kind = TOKENIZERS[config.type][0]
    sources = normalize_text(sources, config.normalization)
    targets = normalize_text(targets, config.normalization)
    os.makedirs(directory, exist_ok=True)
    if config.joint:
        joint = kind.train(sources + targets, config)
        joint.save(directory, "joint")
        if not config.side_vocabularies:
            return joint, joint
        sides = SidePieces.used(joint, sources), SidePieces.used(joint, targets)
        for side, stem in zip(sides, ("source", "target")):
            side.save(directory, stem)
        return sides
    source, target = kind.train(sources, config), kind.train(targets, config)
    source.save(directory, "source")
    target.save(directory, "target")
    return source, target


def load_tokenizers(config: TokenizerConfig, directory: str) -> Tuple[Tokenizer, Tokenizer]:
    """Loads what :func:`train_tokenizers` saved in ``directory``."""
    if config.joint:
        joint = _load(config, directory, "joint")
        if config.side_vocabularies:
            return tuple(SidePieces(joint, _read_json(directory, f"{stem}.pieces.json"))
                         for stem in ("source", "target"))
        return joint, joint
    return _load(config, directory, "source"), _load(config, directory, "target")


def _load(config: TokenizerConfig, directory: str, stem: str) -> Tokenizer:
    kind, suffix = TOKENIZERS[config.type]
    if config.type == "sentencepiece":
        return SentencePieceTokenizer(_read(directory, stem + suffix, binary=True),
                                      config.normalization)
    return kind(_read_json(directory, stem + suffix), config.normalization)


def _read_json(directory: str, name: str):
    return json.loads(_read(directory, name))


def _read(directory: str, name: str, binary: bool = False):
    """A tokenizer file's content (bytes or text)."""
    path = os.path.join(directory, name)
    try:
        with open(path, "rb") as f:
            content = f.read()
    except FileNotFoundError:
        raise UserError(f"Tokenizer file missing: {path}; the run directory is incomplete, "
                        "train again into a new --run-dir") from None
    return content if binary else content.decode("utf-8")


def source_ids(tokenizer: Tokenizer, texts: tf.Tensor,
               max_tokens: Optional[int] = None) -> tf.RaggedTensor:
    """(batch,) strings -> (batch, None) ids: pieces (at most ``max_tokens``), then EOS."""
    return with_eos(tokenizer.tokenize(texts), max_tokens)


def with_eos(ids: tf.RaggedTensor, max_tokens: Optional[int] = None) -> tf.RaggedTensor:
    """(batch, None) pieces -> (batch, None) ids: pieces (at most ``max_tokens``), then EOS."""
    ids = ids[:, :max_tokens]
    return tf.concat([ids, tf.fill([ids.nrows(), 1], EOS_ID)], axis=1)


def target_ids(tokenizer: Tokenizer, texts: tf.Tensor) -> tf.RaggedTensor:
    """(batch,) strings -> (batch, None) ids: BOS, pieces, EOS."""
    ids = tokenizer.tokenize(texts)
    column = tf.ones([ids.nrows(), 1], tf.int32)
    return tf.concat([column * BOS_ID, ids, column * EOS_ID], axis=1)
