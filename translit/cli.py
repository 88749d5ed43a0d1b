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


CHECKPOINT_HELP = ("Checkpoint: best (by the dev metric), latest, average (see `translit "
                   "average`) or a path (default: best when the run kept one, else latest).")


@main.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("-m", "--model", "model_paths", multiple=True,
              help="Run directory or exported SavedModel (default: the latest run under ./runs). "
                   "Repeat with run directories to decode with their ensemble.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Output file (default: stdout).")
@click.option("--beam", type=click.IntRange(min=1),
              help="Beam size (default: the recipe's decode.beam_size; 1 = greedy).")
@click.option("--n-best", type=click.IntRange(min=1),
              help="Write the K best hypotheses per sentence as `INDEX ||| TRANSLATION ||| "
                   "LOG-PROB` (K <= beam size).")
@click.option("--checkpoint", help=CHECKPOINT_HELP)
@click.option("--batch-size", type=click.IntRange(min=1), help="Sentences per batch.")
@click.option("--attention-plot", type=click.Path(file_okay=False),
              help="Also write one attention heatmap per sentence, DIR/LINE.png (attention "
                   "models).")
@_user_errors
def translate(file, model_paths, output, beam, n_best, checkpoint, batch_size, attention_plot):
    """Translate FILE (or stdin), one sentence per line, keeping the line order."""
    from translit.corpus import read_lines
    from translit.export import is_saved_model, load_exported
    from translit.run_dir import latest_run
    from translit.translator import load_translator, translate_lines

    lines = list(read_lines(file)) if file and file != "-" else _stdin_lines()
    model_paths = model_paths or [latest_run()]
    signature = "n_best" if n_best else "serving_default"
    if any(is_saved_model(path) for path in model_paths):
        if len(model_paths) > 1:
            raise UserError("--model: ensembles combine run directories, not exports")
        if attention_plot:
            raise UserError("--attention-plot needs a run directory, not an export")
        if beam is not None:
            raise UserError(f"--beam: {model_paths[0]} is an export, whose beam size was fixed "
                            "by `translit export --beam N`")
        if checkpoint is not None:
            raise UserError(f"--checkpoint: {model_paths[0]} is an export, whose weights were "
                            "fixed by `translit export --checkpoint`")
        translate_fn, default_batch = load_exported(model_paths[0], signature), 64
    else:
        translator, recipe = load_translator(model_paths, beam, checkpoint)
        translate_fn = translator.translate_n_best if n_best else translator.translate
        default_batch = recipe.decode.batch_size
        if attention_plot:
            _plot_attention(translator, lines, batch_size or default_batch, attention_plot)
    outputs = translate_lines(translate_fn, lines, batch_size or default_batch, bool(n_best))
    if n_best:
        if outputs and n_best > max(len(hyps) for hyps in outputs):
            raise UserError(f"--n-best {n_best} exceeds the beam size; pass --beam {n_best} "
                            "or more")
        text = "".join(f"{i} ||| {hyp} ||| {score:.4f}\n"
                       for i, hyps in enumerate(outputs) for hyp, score in hyps[:n_best])
    else:
        text = "".join(line + "\n" for line in outputs)
    _write(text, output)


def _plot_attention(translator, lines, batch_size, directory):
    from translit.plots import plot_attention

    os.makedirs(directory, exist_ok=True)
    width = len(str(len(lines)))
    for index, weights, source, target in translator.attention_maps(lines, batch_size):
        plot_attention(weights, source, target,
                       os.path.join(directory, f"{index + 1:0{width}d}.png"))


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="PNG file (default: RUN_DIR/curves.png).")
@_user_errors
def plot(run_dir, output):
    """Plot RUN_DIR's training loss, dev loss and dev scores against the step into a PNG."""
    from translit.plots import plot_curves, read_metrics
    from translit.run_dir import RunDir

    run = RunDir(run_dir)
    run.load_recipe()  # a clear error for a directory that is not a run
    output = output or os.path.join(run_dir, "curves.png")
    click.echo(plot_curves(read_metrics(run.metrics_path), output, os.path.basename(run_dir)))


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--last", default=5, show_default=True, type=click.IntRange(min=1),
              help="How many of the newest kept checkpoints to average.")
@_user_errors
def average(run_dir, last):
    """Average the weights of RUN_DIR's last checkpoints into RUN_DIR/checkpoints/average;
    translate or export them with --checkpoint average."""
    from translit.averaging import average_checkpoints

    click.echo(average_checkpoints(run_dir, last))


def _write(text: str, output) -> None:
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
@click.option("--checkpoint", help=CHECKPOINT_HELP)
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
@click.argument("hypotheses", required=False, type=click.Path(dir_okay=False))
@click.option("--ref", "-r", type=click.Path(dir_okay=False),
              help="Reference file (metric scoring).")
@click.option("--metrics", default="bleu,chrf", show_default=True,
              help="Comma-separated: bleu, chrf, ter, accuracy (exact match), cer.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON with scores and signatures.")
@click.option("-m", "--model", "run_dir", type=click.Path(file_okay=False),
              help="Run directory: instead of metrics, print each translation's model "
                   "log-probability given --src (forced decoding).")
@click.option("--src", type=click.Path(dir_okay=False), help="Source file for --model.")
@click.option("--checkpoint", help=CHECKPOINT_HELP)
@click.option("--batch-size", default=64, show_default=True, type=click.IntRange(min=1))
@_user_errors
def score(hypotheses, ref, metrics, as_json, run_dir, src, checkpoint, batch_size):
    """Score HYPOTHESES (or stdin): metrics against --ref (sacreBLEU, accuracy, CER), or with
    --model and --src, their log-probability under a trained model."""
    from translit.corpus import read_lines

    hyps = list(read_lines(hypotheses)) if hypotheses and hypotheses != "-" else _stdin_lines()
    if run_dir:
        if src is None:
            raise UserError("score --model needs --src SOURCE_FILE, the sentences that "
                            "HYPOTHESES translate")
        _score_with_model(run_dir, checkpoint, list(read_lines(src)), hyps, batch_size, as_json)
        return
    if ref is None:
        raise UserError("score needs --ref REFERENCE_FILE (or --model RUN_DIR --src SOURCE_FILE)")
    from translit.scoring import score as compute

    results = compute(hyps, list(read_lines(ref)), [m.strip() for m in metrics.split(",")])
    if as_json:
        click.echo(json.dumps({name: {k: r[k] for k in ("score", "signature")}
                               for name, r in results.items()}, indent=1))
    else:
        for result in results.values():
            click.echo(result["text"])


def _score_with_model(run_dir, checkpoint, sources, targets, batch_size, as_json):
    """One ``LOG-PROB<TAB>TOKENS`` line per pair; a summary (per-token mean, perplexity)."""
    import math

    from translit.likelihood import ForcedScorer
    from translit.run_dir import RunDir
    from translit.translator import load_model

    run = RunDir(run_dir)
    recipe = run.load_recipe()
    model, tokenizers = load_model(run, recipe, checkpoint)
    scorer = ForcedScorer(model, *tokenizers, max_source_tokens=recipe.data.max_translate_tokens)
    results = scorer.score_lines(sources, targets, batch_size)
    total = sum(p for p, _ in results)
    tokens = sum(n for _, n in results)
    summary = {"sentences": len(results), "tokens": tokens, "log_prob": round(total, 4),
               "log_prob_per_token": round(total / max(tokens, 1), 4),
               "perplexity": round(math.exp(-total / max(tokens, 1)), 4)}
    if as_json:
        click.echo(json.dumps({"scores": [p for p, _ in results], **summary}))
    else:
        _write("".join(f"{p:.4f}\t{n}\n" for p, n in results), None)
        click.echo(" ".join(f"{k}={v}" for k, v in summary.items()), err=True)


@main.group()
def corpus():
    """Named corpora (list, fetch) and corpus checks."""


@corpus.command("list")
def corpus_list():
    """List the named corpora: languages, size, license, citation."""
    from translit.named_corpora import REGISTRY

    for entry in REGISTRY.values():
        click.echo(f"{entry.name}  {entry.languages[0]} -> {entry.languages[1]}\n"
                   f"  {entry.description}\n  license: {entry.license}\n"
                   f"  cite: {entry.citation}\n"
                   f"  files: {', '.join(f.name for f in entry.files)}")


@corpus.command("fetch")
@click.argument("name")
@click.option("--dest", help="Directory that receives NAME/ (default: $TRANSLIT_CORPORA or "
                             "~/.cache/translit/corpora).")
@click.option("--mirror", help="A directory or http(s) URL laid out as MIRROR/NAME/FILE to "
                               "fetch from instead of the origin.")
@_user_errors
def corpus_fetch(name, dest, mirror):
    """Download corpus NAME (resuming), verify its SHA-256 checksums, print its directory."""
    from translit.named_corpora import DEFAULT_DIR, fetch

    bars = {}

    def progress(label, done, total):
        if label not in bars:
            for bar in bars.values():
                bar.render_finish()
            bars[label] = click.progressbar(length=total or 0, label=label, file=sys.stderr,
                                            show_pos=total is None)
        bar = bars[label]
        bar.update(done - bar.pos)

    directory = fetch(name, dest or DEFAULT_DIR, mirror, progress)
    for bar in bars.values():
        bar.render_finish()
    click.echo(directory)


@corpus.command("check")
@click.argument("src", type=click.Path(dir_okay=False))
@click.argument("tgt", type=click.Path(dir_okay=False))
@click.option("--max-ratio", default=3.0, show_default=True, type=click.FloatRange(min=1.0),
              help="Flag pairs where one side has more than this many times the characters.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_user_errors
def corpus_check(src, tgt, max_ratio, as_json):
    """Check aligned SRC and TGT files: line counts, UTF-8, empty lines, length-ratio outliers,
    duplicates. Exits 1 on unreadable or misaligned files."""
    from translit.corpus_check import check_parallel, format_report

    report = check_parallel(src, tgt, max_ratio)
    click.echo(json.dumps(report, ensure_ascii=False) if as_json else format_report(report))


if __name__ == "__main__":
    main()
