"""The ``translit`` command line: each command parses its flags and calls one library function."""

from __future__ import annotations

import functools
import json
import logging
import os
import sys

import click

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported

from translit.errors import UserError  # noqa: E402


def _user_errors(command):
    """Turns a :class:`UserError` into a one-line message and exit status 1, no traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except UserError as e:
            raise click.ClickException(str(e)) from None
        except BrokenPipeError:  # `translit translate f | head`: stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
    return wrapper


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log debugging details.")
def main(verbose):
    """translit: recurrent encoder-decoder translation and transliteration."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("absl").setLevel(logging.WARNING)  # checkpoint-saving chatter


@main.command()
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.option("--run-dir", help="Where the run goes (default: runs/<recipe name>). An existing "
              "run directory is resumed from its last checkpoint.")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a recipe value, e.g. --set train.max_steps=500 (repeatable).")
@click.option("--strategy", default="auto", show_default=True,
              help="tf.distribute strategy: auto, default, mirrored or multi-worker; auto takes "
                   "multi-worker when TF_CONFIG names a cluster, mirrored with several GPUs, "
                   "default otherwise.")
@_user_errors
def train(recipe, run_dir, overrides, strategy):
    """Train (or resume) the model of RECIPE; print the final dev (and test) scores."""
    from translit.distribute import make_strategy
    from translit.recipe import load_recipe
    from translit.run_dir import RUNS_ROOT
    from translit.training import train as run_training

    loaded = load_recipe(recipe, overrides)
    run_dir = run_dir or os.path.join(RUNS_ROOT, loaded.name)
    record = run_training(loaded, run_dir, make_strategy(strategy))
    click.echo(json.dumps({"run_dir": run_dir, **record}))


@main.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("-m", "--model", "model_path",
              help="Run directory or exported SavedModel (default: the latest run under ./runs).")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Output file (default: stdout).")
@click.option("--beam", type=click.IntRange(min=1),
              help="Beam size (default: the recipe's decode.beam_size; 1 = greedy).")
@click.option("--batch-size", type=click.IntRange(min=1), help="Sentences per batch.")
@_user_errors
def translate(file, model_path, output, beam, batch_size):
    """Translate FILE (or stdin), one sentence per line, keeping the line order."""
    from translit.corpus import read_lines
    from translit.export import is_saved_model, load_exported
    from translit.run_dir import latest_run
    from translit.translator import load_translator, translate_lines

    lines = list(read_lines(file)) if file and file != "-" else _stdin_lines()
    model_path = model_path or latest_run()
    if is_saved_model(model_path):
        if beam is not None:
            raise UserError(f"--beam: {model_path} is an export, whose beam size was fixed by "
                            "`translit export --beam N`")
        translate_fn, default_batch = load_exported(model_path), 64
    else:
        translator, recipe = load_translator(model_path, beam)
        translate_fn, default_batch = translator.translate, recipe.decode.batch_size
    text = "".join(line + "\n" for line in
                   translate_lines(translate_fn, lines, batch_size or default_batch))
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("-m", "--model", "run_dir", help="Run directory (default: the latest under ./runs).")
@click.option("--beam", type=click.IntRange(min=1),
              help="Beam size baked into the export (default: the recipe's).")
@click.option("--checkpoint", help="Checkpoint prefix to export (default: the run's latest).")
@_user_errors
def export(out_dir, run_dir, beam, checkpoint):
    """Export a run as a SavedModel to OUT_DIR: sentences in, translations and scores out."""
    from translit.export import export as write_export
    from translit.run_dir import latest_run

    write_export(run_dir or latest_run(), out_dir, beam, checkpoint)
    click.echo(out_dir)


def _stdin_lines():
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise UserError(f"<stdin>:{line}: not valid UTF-8") from None


@main.command()
@click.option("--ref", "-r", required=True, type=click.Path(dir_okay=False), help="Reference file.")
@click.argument("hypotheses", required=False, type=click.Path(dir_okay=False))
@click.option("--metrics", default="bleu,chrf", show_default=True,
              help="Comma-separated: bleu, chrf, ter.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON with scores and signatures.")
@_user_errors
def score(ref, hypotheses, metrics, as_json):
    """Score HYPOTHESES (or stdin) against --ref with sacreBLEU."""
    from translit.corpus import read_lines
    from translit.scoring import score as compute

    hyps = list(read_lines(hypotheses)) if hypotheses and hypotheses != "-" else _stdin_lines()
    results = compute(hyps, list(read_lines(ref)), [m.strip() for m in metrics.split(",")])
    if as_json:
        click.echo(json.dumps({name: {k: r[k] for k in ("score", "signature")}
                               for name, r in results.items()}, indent=1))
    else:
        for result in results.values():
            click.echo(result["text"])


if __name__ == "__main__":
    main()
