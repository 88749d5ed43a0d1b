"""The documentation: the site builds in strict mode, the README stays short, and every command
example that can run on the quickstart run does run."""

import os
import re
import shutil
import subprocess
import sys

import pytest

from helpers import REPO

PAGES = ["README.md"] + sorted(f"docs/{name}" for name in os.listdir(os.path.join(REPO, "docs"))
                                if name.endswith(".md"))
# What a test cannot run, and why. Everything else in a ```sh or ```python block runs.
NOT_RUN = {
    "python3 -m venv": "makes a virtual environment (the tests run in one)",
    ". .venv/bin/activate": "the same",
    "pip install": "installs translit (the tests run the installed one)",
    "TF_CONFIG=": "a multi-worker training needs several machines",
    "ruff check": ".ci/run lints",
    "mkdocs build": "test_site_builds_in_strict_mode",
    "pytest": "the test suite itself",
}
# The quickstart's training is the one command changed: far fewer steps (the commands after it
# need a run, not a good one).
SHORT_TRAINING = ("--set train.max_steps=60 --set train.checkpoint_every=20 "
                  "--set train.eval_every=60 --set train.log_every=20")
BIN = os.path.dirname(sys.executable)


def examples(page: str):
    """The page's ```sh and ```python blocks, in order: [(language, code)], with the commands
    of NOT_RUN left out (shell commands joined by `&&` are split first)."""
    with open(os.path.join(REPO, page), encoding="utf-8") as f:
        blocks = re.findall(r"^```(sh|python)\n(.*?)^```$", f.read(), re.M | re.S)
    result = []
    for language, code in blocks:
        if language == "sh":
            code = code.replace("\\\n", " ")
            commands = [command.strip() for line in code.splitlines()
                        for command in line.split(" && ")]
            kept = [re.sub(r"^(translit train recipes/quickstart\.yaml)", rf"\1 {SHORT_TRAINING}",
                           command) for command in commands
                    if command and not any(command.startswith(skip) for skip in NOT_RUN)]
            code = "\n".join(kept)
        if any(line.strip() and not line.lstrip().startswith("#") for line in code.splitlines()):
            result.append((language, code))
    return result


@pytest.fixture(scope="module")
def quickstart_dir(tmp_path_factory):
    """A working directory as a user has it after the quickstart's `translit train` (with
    SHORT_TRAINING): recipes/, corpora/ and runs/quickstart."""
    directory = tmp_path_factory.mktemp("quickstart")
    for name in ("recipes", "corpora"):
        shutil.copytree(os.path.join(REPO, name), directory / name)
    _run("sh", f"translit train recipes/quickstart.yaml {SHORT_TRAINING}", directory)
    return directory


def _run(language, code, cwd):
    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ["PATH"]}
    if language == "python":
        command = [sys.executable, "-c", code]
    else:  # background jobs (`translit serve &`) are stopped at the end
        stop_jobs = "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT"
        command = ["bash", "-c", f"set -euo pipefail\n{stop_jobs}\n{code}"]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"{code}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    return done.stdout


@pytest.mark.slow
def test_site_builds_in_strict_mode(tmp_path):
    """A broken link, a missing anchor or a page left out of the navigation fails the build."""
    done = subprocess.run([os.path.join(BIN, "mkdocs"), "build", "--strict", "--site-dir",
                           str(tmp_path / "site")], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr, done.stderr
    assert (tmp_path / "site" / "recipes" / "index.html").is_file()


def test_readme_is_short_and_points_to_every_command():
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    assert len(readme.splitlines()) <= 120
    from translit.cli import main

    for command in main.commands:
        assert f"`translit {command}" in readme, command


@pytest.mark.slow
@pytest.mark.parametrize("page", [page for page in PAGES if examples(page)])
def test_page_examples_run_on_the_quickstart_run(page, quickstart_dir, tmp_path):
    workdir = tmp_path / "work"
    shutil.copytree(quickstart_dir, workdir)
    for language, code in examples(page):
        _run(language, code, workdir)


def test_the_command_reference_is_generated_from_the_cli():
    from translit.reference import reference

    with open(os.path.join(REPO, "docs", "commands.md"), encoding="utf-8") as f:
        assert f.read() == reference(), ("docs/commands.md is stale: "
                                         "python -m translit.reference > docs/commands.md")
