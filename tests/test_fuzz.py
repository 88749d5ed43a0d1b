"""Fuzzing the two readers of user files: whatever the bytes, the corpus reader and the recipe
loader return a valid result or raise a UserError, never another exception."""

import os
import tempfile

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from translit.data.corpus import read_parallel
from translit.errors import UserError
from translit.recipe import Recipe, load_recipe

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
LINES = st.lists(st.one_of(st.binary(max_size=30), st.text(max_size=30).map(str.encode),
                           st.sampled_from([b"", b" ", b"\t", b"\xef\xbb\xbf", b"\r", b"\xff"])),
                 max_size=8)


def _write(directory, name, data: bytes):
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


@SETTINGS
@given(source=LINES, target=LINES, gz=st.booleans())
def test_corpus_reader_accepts_or_explains(source, target, gz):
    with tempfile.TemporaryDirectory() as directory:
        paths = [_write(directory, name, b"\n".join(lines))
                 for name, lines in (("a.src", source), ("a.tgt", target))]
        if gz:  # a file named .gz that is not gzip must be explained too
            paths[0] = _write(directory, "a.src.gz", b"\n".join(source))
        try:
            corpus = read_parallel(*paths)
        except UserError as e:
            assert str(e)
            return
    assert len(corpus.sources) == len(corpus.targets) > 0
    assert all(s and s == s.strip() for s in corpus.sources + corpus.targets)


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True), st.text(max_size=12))
KEYS = st.one_of(st.sampled_from(["data", "tokenizer", "model", "train", "decode", "name",
                                  "units", "layers", "max_steps", "type", "src", "tsv",
                                  "attention", "cell", "corpus", "beam_size"]),
                 st.text(max_size=8))
VALUES = st.recursive(SCALARS, lambda children: st.one_of(
    st.lists(children, max_size=3), st.dictionaries(KEYS, children, max_size=4)), max_leaves=12)


@SETTINGS
@given(document=st.one_of(st.dictionaries(KEYS, VALUES, max_size=6).map(yaml.safe_dump),
                          st.text(max_size=80)))
def test_recipe_loader_accepts_or_explains(document):
    with tempfile.TemporaryDirectory() as directory:
        path = _write(directory, "recipe.yaml", document.encode("utf-8"))
        try:
            recipe = load_recipe(path)
        except UserError as e:
            assert str(e)
            return
    assert isinstance(recipe, Recipe)


@SETTINGS
@given(override=st.text(max_size=40))
def test_recipe_overrides_accept_or_explain(override):
    with tempfile.TemporaryDirectory() as directory:
        path = _write(directory, "recipe.yaml", b"train: {max_steps: 5}\n")
        try:
            load_recipe(path, [override])
        except UserError as e:
            assert str(e)
