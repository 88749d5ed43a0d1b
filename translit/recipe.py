"""Recipes: YAML files loaded into validated dataclasses.

A recipe has the sections ``data``, ``tokenizer``, ``model``, ``train`` and ``decode``. Every
key is checked: unknown keys, wrong types and impossible values raise a :class:`UserError`
that names the key and the file. Relative corpus paths are relative to the working directory;
the resolved recipe written into a run directory holds absolute paths.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from dataclasses import dataclass, field
from typing import Literal, Optional

import yaml

from translit.errors import UserError


def _bounds(low=None, high=None, low_open=False):
    """Field metadata: the range a number must lie in."""
    return {"low": low, "high": high, "low_open": low_open}


@dataclass
class Split:
    """One corpus split: a source and a target file (plain or .gz), or one TSV file."""

    src: Optional[str] = None
    tgt: Optional[str] = None
    tsv: Optional[str] = None


@dataclass
class DataConfig:
    corpus: Optional[str] = None  # a named corpus: its splits fill train/valid/test
    corpus_dir: Optional[str] = None  # where `translit corpus fetch` put it
    train: Split = field(default_factory=Split)
    valid: Split = field(default_factory=Split)
    test: Optional[Split] = None
    max_src_tokens: int = field(default=100, metadata=_bounds(1))
    max_tgt_tokens: int = field(default=100, metadata=_bounds(1))

    @property
    def max_translate_tokens(self) -> int:
        """Sources are cut to this many pieces at translation time (4x the training limit)."""
        return 4 * self.max_src_tokens


@dataclass
class TokenizerConfig:
    type: Literal["sentencepiece", "char"] = "sentencepiece"
    normalization: Literal["NFKC", "NFC", "NFKD", "NFD", "none"] = "NFKC"
    model_type: Literal["unigram", "bpe"] = "unigram"
    vocab_size: int = field(default=8000, metadata=_bounds(8))
    joint: bool = True
    character_coverage: float = field(default=1.0, metadata=_bounds(0.0, 1.0, low_open=True))
    # sentences the tokenizer learns from, sampled while streaming the corpus (SentencePiece's
    # memory grows with them: 500k keep a start on a large corpus under 2 GB)
    max_training_sentences: int = field(default=500_000, metadata=_bounds(1))


@dataclass
class ModelConfig:
    embedding_dim: int = field(default=256, metadata=_bounds(1))
    units: int = field(default=256, metadata=_bounds(1))
    layers: int = field(default=2, metadata=_bounds(1))
    dropout: float = field(default=0.2, metadata=_bounds(0.0, 0.99))
    cell: Literal["lstm", "gru", "cifg"] = "lstm"
    attention: Literal["none", "dot", "general", "bahdanau"] = "none"
    input_feeding: bool = False
    bidirectional: bool = False
    residual: bool = False
    reverse_source: bool = False
    tie_embeddings: bool = False


@dataclass
class TrainConfig:
    batch_tokens: int = field(default=4096, metadata=_bounds(1))
    max_steps: Optional[int] = field(default=None, metadata=_bounds(1))
    max_epochs: Optional[int] = field(default=None, metadata=_bounds(1))
    learning_rate: float = field(default=1e-3, metadata=_bounds(0.0, low_open=True))
    lr_schedule: Literal["constant", "inverse_sqrt", "exponential"] = "constant"
    warmup_steps: int = field(default=0, metadata=_bounds(0))
    decay_rate: float = field(default=0.5, metadata=_bounds(0.0, 1.0, low_open=True))
    decay_steps: int = field(default=10_000, metadata=_bounds(1))
    plateau_factor: float = field(default=1.0, metadata=_bounds(0.0, 1.0, low_open=True))
    plateau_patience: int = field(default=2, metadata=_bounds(1))
    valid_metric: Literal["bleu", "chrf", "accuracy", "loss"] = "bleu"
    early_stopping: Optional[int] = field(default=None, metadata=_bounds(1))
    clip_norm: float = field(default=5.0, metadata=_bounds(0.0, low_open=True))
    label_smoothing: float = field(default=0.1, metadata=_bounds(0.0, 0.99))
    precision: Literal["float32", "mixed_float16", "mixed_bfloat16", "auto"] = "float32"
    xla: bool = False
    checkpoint_every: int = field(default=1000, metadata=_bounds(1))
    keep_checkpoints: int = field(default=5, metadata=_bounds(1))
    eval_every: int = field(default=1000, metadata=_bounds(1))
    log_every: int = field(default=100, metadata=_bounds(1))
    shuffle_buffer: int = field(default=100_000, metadata=_bounds(1))
    seed: int = 1234


@dataclass
class DecodeConfig:
    beam_size: int = field(default=5, metadata=_bounds(1))
    length_penalty: float = field(default=0.6, metadata=_bounds(0.0))
    coverage_penalty: float = field(default=0.0, metadata=_bounds(0.0))
    max_length_ratio: float = field(default=2.0, metadata=_bounds(0.0, low_open=True))
    max_length_offset: int = field(default=10, metadata=_bounds(0))
    batch_size: int = field(default=64, metadata=_bounds(1))


@dataclass
class Recipe:
    name: str = "run"
    data: DataConfig = field(default_factory=DataConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    decode: DecodeConfig = field(default_factory=DecodeConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def load_recipe(path: str, overrides: typing.Sequence[str] = ()) -> Recipe:
    """Reads, overrides and validates a recipe.

    Args:
      path: the YAML file.
      overrides: ``key.path=value`` strings; values are parsed as YAML scalars.
    Returns:
      The validated :class:`Recipe`, corpus paths made absolute.
    """
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f)
    except FileNotFoundError:
        raise UserError(f"Recipe file not found: {path}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: not valid YAML: {e}") from None
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a mapping of sections, received {type(raw).__name__}")
    raw.setdefault("name", os.path.splitext(os.path.basename(path))[0])
    for override in overrides:
        _apply_override(raw, override)
    recipe = _build(Recipe, raw, path, "")
    _resolve_named_corpus(recipe.data, path)
    _check_recipe(recipe, path)
    _absolutize_paths(recipe)
    return recipe


def recipe_from_dict(raw: dict, where: str) -> Recipe:
    """Validates an already parsed recipe (a resolved recipe in a run directory)."""
    recipe = _build(Recipe, raw, where, "")
    _check_recipe(recipe, where)
    return recipe


def save_recipe(recipe: Recipe, path: str) -> None:
    """Writes ``recipe`` as YAML; a reader sees the old file or the whole new one."""
    partial = path + ".tmp"
    with open(partial, "w", encoding="utf-8") as f:
        yaml.safe_dump(recipe.to_dict(), f, sort_keys=False, allow_unicode=True)
    os.replace(partial, path)


def _apply_override(raw: dict, override: str) -> None:
    key, sep, value = override.partition("=")
    if not sep or not key:
        raise UserError(f"--set {override!r}: expected KEY.PATH=VALUE, e.g. train.max_steps=500")
    node = raw
    parts = key.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise UserError(f"--set {override!r}: {part!r} is not a section")
        node = child
    try:
        node[parts[-1]] = yaml.safe_load(value) if value else None
    except yaml.YAMLError as e:
        raise UserError(f"--set {override!r}: the value is not valid YAML: {e}") from None


def _build(cls, raw, where: str, prefix: str):
    """Builds dataclass ``cls`` from ``raw``, naming ``where`` and the key in every error."""
    if not isinstance(raw, dict):
        raise UserError(f"{where}: {prefix.rstrip('.') or 'recipe'} must be a mapping, "
                        f"received {raw!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise UserError(f"{where}: unknown key {prefix + str(unknown[0])!r}; "
                        f"expected one of: {', '.join(prefix + k for k in fields)}")
    values = {}
    for name, value in raw.items():
        values[name] = _convert(hints[name], value, where, prefix + name, fields[name].metadata)
    return cls(**values)


def _convert(hint, value, where: str, key: str, bounds):
    origin = typing.get_origin(hint)
    if origin is typing.Union:  # Optional[X]
        if value is None:
            return None
        (hint,) = [a for a in typing.get_args(hint) if a is not type(None)]
        origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, {} if value is None else value, where, key + ".")
    if origin is Literal:
        choices = typing.get_args(hint)
        if value not in choices:
            raise UserError(f"{where}: {key} received {value!r}, expected one of "
                            f"{', '.join(map(repr, choices))}")
        return value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise UserError(f"{where}: {key} received {value!r} ({type(value).__name__}), "
                        f"expected {hint.__name__}")
    _check_bounds(value, bounds, where, key)
    return value


def _check_bounds(value, bounds, where: str, key: str) -> None:
    if not bounds:
        return
    low, high = bounds["low"], bounds["high"]
    if low is not None and (value <= low if bounds["low_open"] else value < low):
        relation = ">" if bounds["low_open"] else ">="
        raise UserError(f"{where}: {key} received {value!r}, expected a value {relation} {low}")
    if high is not None and value > high:
        raise UserError(f"{where}: {key} received {value!r}, expected a value <= {high}")


def _check_recipe(recipe: Recipe, where: str) -> None:
    for name in ("train", "valid", "test"):
        split = getattr(recipe.data, name)
        if split is None:
            continue
        pair = split.src is not None and split.tgt is not None
        if pair == (split.tsv is not None) or (split.src is None) != (split.tgt is None):
            raise UserError(f"{where}: data.{name} needs either both 'src' and 'tgt' or one "
                            f"'tsv', received {dataclasses.asdict(split)}")
    if recipe.model.input_feeding and recipe.model.attention == "none":
        raise UserError(f"{where}: model.input_feeding feeds the attentional vector and needs "
                        "attention; set model.attention or model.input_feeding: false")
    if recipe.decode.coverage_penalty and recipe.model.attention == "none":
        raise UserError(f"{where}: decode.coverage_penalty needs attention; set model.attention "
                        "or decode.coverage_penalty: 0")
    train = recipe.train
    if train.max_steps is None and train.max_epochs is None:
        raise UserError(f"{where}: set train.max_steps or train.max_epochs (or both) so that "
                        "training knows when to stop")


def _resolve_named_corpus(data: DataConfig, where: str) -> None:
    """Fills the splits that the recipe leaves empty from ``data.corpus``."""
    if data.corpus is None:
        return
    from translit.named_corpora import DEFAULT_DIR, REGISTRY

    if data.corpus not in REGISTRY:
        raise UserError(f"{where}: data.corpus received {data.corpus!r}, expected one of "
                        f"{', '.join(map(repr, REGISTRY))} (see `translit corpus list`)")
    named = REGISTRY[data.corpus]
    directory = data.corpus_dir or DEFAULT_DIR
    for name in ("train", "valid", "test"):
        split = getattr(data, name)
        if split is not None and (split.src or split.tsv):
            continue
        src, tgt = named.split_paths(directory, name)
        for path in (src, tgt):
            if not os.path.isfile(path):
                raise UserError(f"{where}: data.corpus {data.corpus!r}: {path} not found; fetch "
                                f"it with `translit corpus fetch {data.corpus} --dest "
                                f"{directory}` or set data.corpus_dir")
        setattr(data, name, Split(src=src, tgt=tgt))


def _absolutize_paths(recipe: Recipe) -> None:
    for split in (recipe.data.train, recipe.data.valid, recipe.data.test):
        if split is None:
            continue
        for name in ("src", "tgt", "tsv"):
            path = getattr(split, name)
            if path is not None:
                setattr(split, name, os.path.abspath(path))
