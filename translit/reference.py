"""The command reference of docs/commands.md, generated from the CLI's click definitions: every
command and option with its help and default, so that the page cannot drift from the code.

    python -m translit.reference > docs/commands.md   # a test checks that the page matches
"""

from __future__ import annotations

import html
from typing import Iterator, List

import click

from translit.cli import main

INTRO = """# Commands

Every `translit` command and option, with its help and default. This page is generated from
the command line's own definitions (`python -m translit.reference > docs/commands.md`; a test
checks that it matches), so it says what `translit COMMAND --help` says.
"""


def reference() -> str:
    """The page: an introduction, then a section per command, groups' commands under them."""
    sections = [INTRO]
    for path, command in _commands(main, ["translit"]):
        sections.append(_section(path, command))
    return "\n".join(sections)


def _commands(group: click.Group, path: List[str]) -> Iterator[tuple]:
    """(path, command) for the group itself and every command below it, in the order given."""
    yield path, group
    context = click.Context(group, info_name=path[-1])
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if isinstance(command, click.Group):
            yield from _commands(command, path + [name])
        else:
            yield path + [name], command


def _section(path: List[str], command: click.Command) -> str:
    """A command's heading, usage, help and table of options."""
    context = click.Context(command, info_name=" ".join(path))
    usage = " ".join(command.collect_usage_pieces(context))
    lines = [f"## `{' '.join(path)}`", "", f"```\n{' '.join(path)} {usage}\n```", "",
             _markdown(command.help or ""), ""]
    rows = [record for param in command.get_params(context) if isinstance(param, click.Option)
            and (record := param.get_help_record(context))]
    if rows:
        lines += ["| option | meaning |", "| --- | --- |"]
        lines += [f"| <code>{_cell(options)}</code> | {_cell(help_text)} |"
                  for options, help_text in rows]
        lines.append("")
    return "\n".join(lines)


def _markdown(text: str) -> str:
    """A docstring's paragraphs, each on one line (click keeps the line breaks)."""
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


def _cell(text: str) -> str:
    """One line of a table cell, as HTML text: its pipes (a choice's `none|dynamic`) as
    entities."""
    return html.escape(" ".join(text.split()), quote=False).replace("|", "&#124;")


if __name__ == "__main__":
    print(reference(), end="")
