"""A recipe's stages: the runs and files it reads that other stages build (``needs``), built in
order before its training, and what follows it (``then``).

Each stage runs as its own ``translit`` process (a fresh TensorFlow, as a user would run it) and
is resumable: a train stage is done when its run has its final record, and resumes from its
last checkpoint otherwise; a command stage is done when the file it creates exists (translit
writes its outputs whole or not at all). ``translit train RECIPE --plan`` lists them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shlex
import signal
import subprocess
import sys
from typing import Iterator, List, Optional, Sequence

import click

from translit.errors import UserError
from translit.recipe import Recipe, Stage, load_recipe
from translit.runs.directory import RUNS_ROOT, RunDir
from translit.utils.progress import STAGE_ENV

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Planned:
    """A stage as the plan lists it."""

    arguments: List[str]  # of the translit command that builds it
    output: str  # the run directory or the file it makes
    done: bool
    name: str  # short, for the progress line
    level: int = 0  # 0: a numbered stage; 1 or more: built by a stage's own `translit train`
    main: bool = False  # the recipe's own training (run in this process)


def plan(recipe_path: str, recipe: Recipe, run_dir: str) -> List[Planned]:
    """The recipe's needs (and theirs, nested), its own training, then its ``then`` stages.

    Raises:
      UserError: a stage's recipe does not load, or recipes need each other in a circle.
    """
    return _plan(recipe_path, recipe, run_dir, 0, 0, (os.path.realpath(recipe_path),),
                 main=True)


def _plan(recipe_path, recipe, run_dir, level, stages_level, chain,
          main=False) -> List[Planned]:
    """``level``: where the recipe's own training is listed; ``stages_level``: its stages."""
    stages = [s for stage in recipe.needs
              for s in _planned(stage, stages_level, chain, recipe_path)]
    stages.append(Planned(["train", recipe_path, "--run-dir", run_dir], run_dir,
                          _trained(run_dir), recipe.name, level, main))
    return stages + [s for stage in recipe.then
                     for s in _planned(stage, stages_level, chain, recipe_path)]


def _planned(stage: Stage, level: int, chain, parent: str) -> List[Planned]:
    if stage.command is not None:
        arguments = shlex.split(stage.command)
        arguments = arguments[1:] if arguments[:1] == ["translit"] else arguments
        return [Planned(arguments, stage.creates, os.path.exists(stage.creates),
                        " ".join(arguments[:2]), level)]
    real = os.path.realpath(stage.train)
    if real in chain:
        raise UserError(f"{parent}: needs {stage.train}, which needs it in turn; recipes cannot "
                        "need each other in a circle")
    recipe = load_recipe(stage.train)
    run_dir = stage.run_dir or os.path.join(RUNS_ROOT, recipe.name)
    return _plan(stage.train, recipe, run_dir, level, level + 1, chain + (real,))


def _trained(run_dir: str) -> bool:
    """Whether a run has its final record (its training ended and was scored)."""
    run = RunDir(run_dir)
    if not os.path.isfile(run.metrics_path):
        return False
    return any(record.get("type") == "final" for record in run.read_metrics())


def format_plan(stages: Sequence[Planned]) -> str:
    """One line per stage: its number, its command, what it makes, done or to do."""
    count = len(_numbered(stages))
    lines, number = [], 0
    for stage in stages:
        if stage.level:
            prefix = "     " * stage.level + "- "
        else:
            number += 1
            prefix = f"{number:>2}/{count} "
        state = "done" if stage.done else "to do"
        what = "(this recipe) " if stage.main else ""
        lines.append(f"{prefix}{what}translit {shlex.join(stage.arguments)}  ->  "
                     f"{stage.output}  [{state}]")
    return "\n".join(lines)


def run_stages(stages: Sequence[Planned], train_here) -> Optional[dict]:
    """Runs the stages not done, in order, the recipe's own training with ``train_here()``.

    Returns: what ``train_here`` returned.
    Raises:
      UserError: a stage failed (its number, command and exit status).
    """
    top = _numbered(stages)
    record = None
    for number, stage in enumerate(top, start=1):
        label = f"{number}/{len(top)} {stage.name}"
        if stage.main and len(top) == 1:  # a recipe without stages
            record = train_here()
        elif stage.main:
            with _stage_label(label):
                record = train_here()
        elif stage.done:
            log.info("stage %s: done (%s)", label, stage.output)
        else:
            _run(stage, label)
    return record


def _numbered(stages: Sequence[Planned]) -> List[Planned]:
    """The stages this process runs (the others are built by a stage's own process)."""
    return [s for s in stages if s.level == 0]


@contextlib.contextmanager
def _stage_label(label: str) -> Iterator[None]:
    previous = os.environ.get(STAGE_ENV)
    os.environ[STAGE_ENV] = label
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(STAGE_ENV, None)
        else:
            os.environ[STAGE_ENV] = previous


def _run(stage: Planned, label: str) -> None:
    """Runs one stage's translit command in its own process; its stdout (a JSON summary) is
    written to stderr, so that the recipe's own summary stays the one line of stdout."""
    command = [sys.executable, "-m", "translit", *stage.arguments]
    click.echo(f"stage {label}: translit {shlex.join(stage.arguments)}", err=True)
    process = subprocess.Popen(command, env={**os.environ, STAGE_ENV: label},
                               stdout=subprocess.PIPE, text=True)
    previous = signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        output, _ = process.communicate()
    except KeyboardInterrupt:  # the stage got the Ctrl-C too and saves what it has
        process.wait()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    for line in output.splitlines():
        click.echo(f"stage {label}: {line}", err=True)
    if process.returncode != 0:
        raise UserError(f"stage {label} (translit {shlex.join(stage.arguments)}) ended with exit "
                        f"status {process.returncode}; the stages before it are kept: mend what "
                        "its message says and run the same `translit train` command again")
    if stage.arguments[0] == "train" or os.path.exists(stage.output):
        return
    raise UserError(f"stage {label} (translit {shlex.join(stage.arguments)}) did not create "
                    f"{stage.output}; correct the stage's creates: in the recipe")

