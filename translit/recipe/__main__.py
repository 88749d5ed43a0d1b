"""python -m translit.recipe: the table of recipe keys for docs/recipes.md."""

from translit.recipe.schema import keys_table

print(keys_table(), end="")
