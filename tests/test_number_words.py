import filecmp
import importlib.util
import os

from helpers import REPO


def _module():
    spec = importlib.util.spec_from_file_location(
        "number_words", os.path.join(REPO, "corpora", "number_words.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_number_words_in_both_languages():
    words = _module()
    assert words.german(54) == "vierundfünfzig" and words.english(54) == "fifty four"
    assert words.german(1001) == "eintausendeins"
    assert words.german(21_317) == "einundzwanzigtausenddreihundertsiebzehn"
    assert words.english(21_317) == "twenty one thousand three hundred seventeen"
    assert words.english(100) == "one hundred" and words.german(100) == "einhundert"


def test_committed_corpus_is_the_generator_output_and_splits_are_disjoint(tmp_path):
    words = _module()
    words.write(str(tmp_path))
    committed = os.path.join(REPO, "corpora", "number_words")
    names = sorted(os.listdir(committed))
    assert names == sorted(os.listdir(tmp_path))
    match, mismatch, errors = filecmp.cmpfiles(committed, str(tmp_path), names, shallow=False)
    assert not mismatch and not errors
    splits = {name: set(numbers) for name, numbers in words.splits().items()}
    assert not splits["train"] & splits["test"] and not splits["train"] & splits["valid"]
    assert set(range(1, 101)) <= splits["train"]  # what people type first is learned
    assert words.splits()["train"].count(8) == 5
