import os
import pathlib

import pytest
import yaml

from translit.errors import UserError
from translit.recipe import keys_table, load_recipe, save_recipe

from helpers import write_recipe


def _recipe_file(tmp_path, text):
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


MINIMAL = """
data:
  train: {src: a.de, tgt: a.en}
  valid: {tsv: v.tsv}
train: {max_steps: 10}
"""


def test_minimal_recipe_gets_defaults_and_absolute_paths(tmp_path):
    recipe = load_recipe(_recipe_file(tmp_path, MINIMAL))
    assert recipe.name == "r"
    assert recipe.model.layers == 2 and recipe.tokenizer.type == "sentencepiece"
    assert os.path.isabs(recipe.data.train.src) and recipe.data.valid.tsv.endswith("v.tsv")


@pytest.mark.parametrize("text, message", [
    (MINIMAL + "model: {unitz: 3}\n", "unknown key 'model.unitz'"),
    (MINIMAL + "model: {units: many}\n", "model.units received 'many' (str), expected int"),
    (MINIMAL + "model: {units: -4}\n", "model.units received -4, expected a value >= 1"),
    (MINIMAL + "model: {dropout: 1.5}\n", "model.dropout received 1.5, expected a value <= 0.99"),
    (MINIMAL + "model: {layers: true}\n", "model.layers received True (bool), expected int"),
    (MINIMAL + "tokenizer: {type: words}\n", "tokenizer.type received 'words', expected one of"),
    (MINIMAL + "colour: red\n", "unknown key 'colour'"),
    (MINIMAL + "tokenizer: {type: char, side_vocabularies: true}\n",
     "tokenizer.side_vocabularies reads one joint SentencePiece model"),
    (MINIMAL.replace("train: {max_steps: 10}", ""), "set train.max_steps or train.max_epochs"),
    (MINIMAL.replace("{tsv: v.tsv}", "{src: v.de}"),
     "data.valid needs either both 'src' and 'tgt'"),
    (MINIMAL + "needs: {train: x.yaml}\n", "needs must be a list"),
    (MINIMAL + "needs: [{trian: x.yaml}]\n", "unknown key 'needs[0].trian'"),
    (MINIMAL + "needs: [{command: corpus romanize t -o f}]\n",
     "needs[0]: a command stage names the file it creates"),
    (MINIMAL + "then: [{train: x.yaml, command: average}]\n",
     "then[0]: a stage is either {train: RECIPE} or {command: ARGUMENTS, creates: FILE}"),
    ("[1, 2]", "expected a mapping of sections"),
    ("data: [", "not valid YAML"),
])
def test_bad_recipes_name_the_key_and_the_file(tmp_path, text, message):
    path = _recipe_file(tmp_path, text)
    with pytest.raises(UserError) as error:
        load_recipe(path)
    assert message in str(error.value)
    assert path in str(error.value)


def test_overrides_set_nested_values_and_are_validated(tmp_path):
    path = _recipe_file(tmp_path, MINIMAL)
    recipe = load_recipe(path, ["train.max_steps=77", "model.dropout=0", "decode.beam_size=1"])
    assert recipe.train.max_steps == 77 and recipe.model.dropout == 0.0
    assert recipe.decode.beam_size == 1
    with pytest.raises(UserError, match="unknown key 'train.max_stepz'"):
        load_recipe(path, ["train.max_stepz=5"])
    with pytest.raises(UserError, match="expected KEY.PATH=VALUE"):
        load_recipe(path, ["train.max_steps"])


def test_missing_recipe_file_is_named(tmp_path):
    with pytest.raises(UserError, match="Recipe file not found: .*nope.yaml"):
        load_recipe(str(tmp_path / "nope.yaml"))


def test_missing_recipe_names_the_shipped_one_meant(tmp_path, monkeypatch):
    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "quickstart.yaml").write_text("name: quickstart\n")
    monkeypatch.chdir(tmp_path)
    for typed in ("quickstart", "recipes/quickstart"):
        with pytest.raises(UserError, match=f"not found: {typed}; did you mean "
                                            r"recipes/quickstart\.yaml\?"):
            load_recipe(typed)


def test_saved_recipe_loads_back_equal(tmp_path):
    recipe = load_recipe(write_recipe(tmp_path))
    save_recipe(recipe, str(tmp_path / "resolved.yaml"))
    again = load_recipe(str(tmp_path / "resolved.yaml"))
    assert again == recipe


def test_shipped_recipes_are_valid():
    from helpers import REPO
    directory = os.path.join(REPO, "recipes")
    for name in os.listdir(directory):
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            assert isinstance(yaml.safe_load(f), dict)
        assert load_recipe(os.path.join(directory, name)).train.max_steps


def test_documented_recipe_table_matches_the_keys_definitions():
    page = (pathlib.Path(__file__).parent.parent / "docs" / "recipes.md").read_text(
        encoding="utf-8")
    # Every key has its documentation beside its definition; the docs show it unchanged.
    assert keys_table() in page, ("docs/recipes.md's recipe table is stale: "
                                  "`python -m translit.recipe`")
