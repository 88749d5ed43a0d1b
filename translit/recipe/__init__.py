"""Recipes: the schema of their keys (:mod:`translit.recipe.schema`) and their loading and
validation (:mod:`translit.recipe.loading`)."""

from translit.recipe.loading import load_recipe, recipe_from_dict, save_recipe
from translit.recipe.schema import (
    DataConfig,
    DecodeConfig,
    ModelConfig,
    Recipe,
    Split,
    Stage,
    TokenizerConfig,
    TrainConfig,
    keys_table,
)

__all__ = ["DataConfig", "DecodeConfig", "ModelConfig", "Recipe", "Split", "Stage",
           "TokenizerConfig", "TrainConfig", "keys_table", "load_recipe", "recipe_from_dict",
           "save_recipe"]
