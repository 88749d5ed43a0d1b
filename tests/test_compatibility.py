"""Runs and exports made before the package was cut into rooms by role (commit 83a2d96) load
and translate as they did then: tests/data/before_rooms holds a tiny run, its SavedModel and
its LiteRT export, and the translations and n-best lists that translit gave at that commit."""

import json
import os
import shutil

import pytest

import translit

BEFORE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "before_rooms")


@pytest.mark.parametrize("kind", ["run", "export", "litert"])
def test_what_translit_made_before_the_move_translates_as_it_did(kind, tmp_path):
    with open(os.path.join(BEFORE, "expected.json"), encoding="utf-8") as f:
        expected = json.load(f)
    path = shutil.copytree(os.path.join(BEFORE, kind), tmp_path / kind)  # loading may write
    model = translit.load(str(path))
    assert model.kind == kind
    sources, then = expected["sources"], expected["outputs"][kind]
    assert model.translate(sources) == then["translate"]
    for hypotheses, old in zip(model.translate(sources, n_best=2), then["n_best"]):
        assert [h.text for h in hypotheses] == [text for text, _ in old]
        assert [h.score for h in hypotheses] == pytest.approx([score for _, score in old],
                                                              abs=1e-4)
