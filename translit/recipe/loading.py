"""Recipes: YAML files loaded into the validated dataclasses of :mod:`translit.recipe.schema`.

Every key is checked: unknown keys, wrong types and impossible values raise a :class:`UserError`
that names the key and the file. Relative corpus paths are relative to the working directory;
the resolved recipe written into a run directory holds absolute paths.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from typing import Literal

import yaml

from translit.errors import UserError
from translit.recipe.schema import DataConfig, Recipe, Split, Stage
from translit.utils.files import atomic_write


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
        raise UserError(f"Recipe file not found: {path}{_recipe_hint(path)}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: not valid YAML: {e}") from None
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a mapping of sections, received {type(raw).__name__}")
    raw.setdefault("name", os.path.splitext(os.path.basename(path))[0])
    for override in overrides:
        _apply_override(raw, override)
    recipe = _build(Recipe, raw, path, "")
    recipe = dataclasses.replace(recipe, data=_named_corpus_splits(recipe.data, path))
    _check_recipe(recipe, path)
    return dataclasses.replace(recipe, data=_resolved_splits(recipe.data))


def _recipe_hint(path: str) -> str:
    """"; did you mean recipes/NAME.yaml?" where a recipe by that name exists, else ""."""
    for candidate in (f"{path}.yaml", os.path.join("recipes", path),
                      os.path.join("recipes", f"{path}.yaml")):
        if os.path.isfile(candidate):
            return f"; did you mean {candidate}?"
    return ""


def recipe_from_dict(raw: dict, where: str) -> Recipe:
    """Validates an already parsed recipe (a resolved recipe in a run directory)."""
    recipe = _build(Recipe, raw, where, "")
    _check_recipe(recipe, where)
    return dataclasses.replace(recipe, data=_resolved_splits(recipe.data, absolute=False))


def save_recipe(recipe: Recipe, path: str) -> None:
    """Writes ``recipe`` as YAML; a reader sees the old file or the whole new one."""
    with atomic_write(path) as f:
        yaml.safe_dump(recipe.to_dict(), f, sort_keys=False, allow_unicode=True)


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
        values[name] = _convert(hints[name], value, where, prefix + name,
                                fields[name].metadata.get("bounds"))
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
    if origin is list:
        (item,) = typing.get_args(hint)
        if not isinstance(value, list):
            raise UserError(f"{where}: {key} must be a list, received {value!r}")
        return [_convert(item, entry, where, f"{key}[{index}]", bounds)
                for index, entry in enumerate(value)]
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
    """Raises a :class:`UserError` for keys that do not go together."""
    language_model = recipe.model.kind == "lm"
    for name in ("train", "valid", "test"):
        split = getattr(recipe.data, name)
        if split is None:
            continue
        if split.text is not None:
            if not language_model:
                raise UserError(f"{where}: data.{name}.text is for language models (model.kind: "
                                "lm); a translation model reads {src, tgt} or {tsv}")
            split = _text_as_pair(split)
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
    tokenizer = recipe.tokenizer
    if tokenizer.side_vocabularies and (not tokenizer.joint or tokenizer.type != "sentencepiece"):
        raise UserError(f"{where}: tokenizer.side_vocabularies reads one joint SentencePiece "
                        "model through each side's pieces; it needs tokenizer.type: "
                        "sentencepiece and tokenizer.joint: true")
    model = recipe.model
    if language_model and (model.attention != "none" or model.bidirectional or
                           model.reverse_source or recipe.train.valid_metric != "loss"):
        raise UserError(f"{where}: a language model (model.kind: lm) has no encoder and nothing "
                        "to translate: set model.attention: none, model.bidirectional: false, "
                        "model.reverse_source: false and train.valid_metric: loss")
    for section in ("needs", "then"):
        for index, stage in enumerate(getattr(recipe, section)):
            _check_stage(stage, f"{where}: {section}[{index}]")
    train = recipe.train
    if train.max_steps is None and train.max_epochs is None:
        raise UserError(f"{where}: set train.max_steps or train.max_epochs (or both) so that "
                        "training knows when to stop")


def _check_stage(stage: Stage, where: str) -> None:
    if (stage.train is None) == (stage.command is None):
        raise UserError(f"{where}: a stage is either {{train: RECIPE}} or {{command: ARGUMENTS, "
                        f"creates: FILE}}, received {dataclasses.asdict(stage)}")
    if stage.command is not None and (stage.creates is None or stage.run_dir is not None):
        raise UserError(f"{where}: a command stage names the file it creates (creates: FILE), "
                        "by which a later run knows it is done; run_dir is for train stages")
    if stage.train is not None and stage.creates is not None:
        raise UserError(f"{where}: creates: is for command stages; a train stage is done when "
                        "its run has its final record")


def _named_corpus_splits(data: DataConfig, where: str) -> DataConfig:
    """``data`` with the splits that the recipe leaves empty filled from ``data.corpus``."""
    if data.corpus is None:
        return data
    from translit.data.named_corpora import DEFAULT_DIR, REGISTRY

    if data.corpus not in REGISTRY:
        raise UserError(f"{where}: data.corpus received {data.corpus!r}, expected one of "
                        f"{', '.join(map(repr, REGISTRY))} (see `translit corpus list`)")
    named = REGISTRY[data.corpus]
    directory = data.corpus_dir or DEFAULT_DIR
    filled = {}
    for name in ("train", "valid", "test"):
        split = getattr(data, name)
        if split is not None and (split.src or split.tsv or split.text):
            continue
        src, tgt = named.split_paths(directory, name)
        for path in (src, tgt):
            if not os.path.isfile(path):
                raise UserError(f"{where}: data.corpus {data.corpus!r}: {path} not found; fetch "
                                f"it with `translit corpus fetch {data.corpus} --dest "
                                f"{directory}` or set data.corpus_dir")
        filled[name] = Split(src=src, tgt=tgt)
    return dataclasses.replace(data, **filled)


def _text_as_pair(split: Split) -> Split:
    """A language model's ``{text: FILE}``: each line its own source, which the model ignores."""
    return dataclasses.replace(split, src=split.text, tgt=split.text)


def _resolved_splits(data: DataConfig, absolute: bool = True) -> DataConfig:
    """``data`` with text splits read as pairs and (``absolute``) every path absolute."""
    resolved = {}
    for name in ("train", "valid", "test"):
        split = getattr(data, name)
        if split is None:
            continue
        split = _text_as_pair(split) if split.text is not None else split
        if absolute:
            split = Split(**{key: None if path is None else os.path.abspath(path)
                             for key, path in dataclasses.asdict(split).items()})
        resolved[name] = split
    return dataclasses.replace(data, **resolved)
