"""``python -m translit``: the ``translit`` command, for environments without its script on PATH."""
from translit.cli import main

main(prog_name="translit")
