"""The ``translit`` command line: each command parses its flags and calls one library function."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import signal
import sys
import warnings
from typing import Optional

import click

from translit.decoding.scoring import METRICS
from translit.errors import TrainingInterrupted, UserError
from translit.text.romanize import SCHEMES, SCRIPTS
from translit.training.distribute import STRATEGIES, cluster_from_env


class CommaSeparated(click.ParamType):
    """A comma-separated list of values, each one of ``choices``."""

    name = "list"

    def __init__(self, choices):
        self.choices = tuple(choices)

    def convert(self, value, param, ctx):
        if isinstance(value, (list, tuple)):
            return list(value)
        items = [item.strip() for item in value.split(",") if item.strip()]
        unknown = [item for item in items if item not in self.choices]
        if unknown or not items:
            self.fail(f"{unknown[0] if unknown else value!r} is not one of "
                      f"{', '.join(self.choices)}", param, ctx)
        return items


def _user_errors(command):
    """Turns a :class:`UserError` into a one-line message and exit status 1, no traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except UserError as e:
            error = click.ClickException(str(e))
            error.exit_code = e.exit_code
            raise error from None
        except BrokenPipeError:  # `translit translate f | head`: stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
    return wrapper


def _start_tensorflow() -> None:
    """Imports TensorFlow, with its loading lines hidden unless ``-v``."""
    from translit.utils.native_log import start_tensorflow

    start_tensorflow(click.get_current_context().find_root().params["verbose"])


def _print_version(ctx, _param, value) -> None:
    if value and not ctx.resilient_parsing:
        from translit.version import version_line

        click.echo(version_line())
        ctx.exit()


@click.group()
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version,
              help="Print translit's version and those of TensorFlow and Keras, then exit.")
@click.option("-v", "--verbose", is_flag=True,
              help="Log debugging details, TensorFlow's start-up messages included.")
def main(verbose):
    """translit: recurrent encoder-decoder translation and transliteration."""
    # TensorFlow's C++ log and Python warnings (Keras's, TensorFlow's) only with -v; errors that
    # matter reach the user as exceptions. Set before TensorFlow is imported.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if verbose else "3")
    if not verbose:
        warnings.simplefilter("ignore")
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in ("absl", "tensorflow"):  # checkpoint saving, "Assets written to"
        logging.getLogger(chatty).setLevel(logging.WARNING)


@main.command()
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.option("--run-dir", help="Where the run goes (default: runs/<recipe name>). An existing "
              "run directory is resumed from its last checkpoint.")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a recipe value, e.g. --set train.max_steps=500 (repeatable).")
@click.option("--strategy", default="auto", show_default=True, type=click.Choice(STRATEGIES),
              help="tf.distribute strategy: auto, default, mirrored or multi-worker; auto takes "
                   "multi-worker when TF_CONFIG names a cluster, mirrored with several GPUs, "
                   "default otherwise.")
@click.option("--plan", "show_plan", is_flag=True,
              help="List the recipe's stages (the runs and files it needs, its own training, "
                   "what follows it), each done or to do, and stop.")
@_user_errors
def train(recipe, run_dir, overrides, strategy, show_plan):
    """Train (or resume) the model of RECIPE, after building the stages it needs (its `needs:`,
    each resumable); print the final dev (and test) scores."""
    from translit.recipe import load_recipe
    from translit.runs.directory import RUNS_ROOT
    from translit.training import stages

    loaded = load_recipe(recipe, overrides)
    run_dir = run_dir or os.path.join(RUNS_ROOT, loaded.name)
    planned = stages.plan(recipe, loaded, run_dir)
    if show_plan:
        click.echo(stages.format_plan(planned))
        return
    pending = [stage for stage in planned if not (stage.done or stage.main)]
    if pending and (strategy == "multi-worker" or (strategy == "auto" and cluster_from_env())):
        raise UserError(f"{recipe} needs stages that are not built yet (`translit train {recipe} "
                        "--plan`); build them on one machine first, without TF_CONFIG, then "
                        "start the workers")
    _start_tensorflow()
    from translit.training.distribute import make_strategy
    from translit.training.trainer import train as run_training

    try:
        record = stages.run_stages(
            planned, lambda: run_training(loaded, run_dir, make_strategy(strategy)))
    except KeyboardInterrupt:  # before the training loop, or a second Ctrl-C
        raise TrainingInterrupted(f"interrupted; run the same `translit train` command to resume "
                                  f"{run_dir} from its last checkpoint, if it has one",
                                  signal.SIGINT) from None
    except TrainingInterrupted as stopped:
        _exit_at_once(stopped)
    click.echo(json.dumps({"run_dir": run_dir, **record}))


def _exit_at_once(stopped: TrainingInterrupted) -> None:
    """Prints why the training stopped and ends the process without the interpreter's teardown,
    in which TensorFlow's input pipeline first finishes the work it has begun (20-60 s, seen to
    hang once). By then the checkpoint is saved, the logs are flushed and the lock is released."""
    click.ClickException(str(stopped)).show()  # "Error: ..." as every other user error
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(stopped.exit_code)


CHECKPOINT_HELP = ("Checkpoint: best (by the dev metric), latest, average (see `translit "
                   "average`) or a path (default: best when the run kept one, else latest).")


TEXT_OPTIONS = (
    click.option("--unit", type=click.Choice(["line", "word"]),
                 help="line: each line is one source sequence; word: running text, "
                      "transliterated word by word by a model trained on words (default: the "
                      "recipe's decode.unit)."),
    click.option("--word-prior", type=click.Path(dir_okay=False),
                 help="A native-script text file whose word frequencies rerank the beam "
                      "(default: the recipe's decode.word_prior)."),
    click.option("--word-prior-weight", type=click.FloatRange(min=0),
                 help="Weight of log P(word) in the ranking (default: the recipe's "
                      "decode.word_prior_weight)."),
    click.option("--lm", type=click.Path(file_okay=False),
                 help="With --unit word: a word-level language model run (model.kind: lm) "
                      "that chooses each word in the context of the words before it (default: "
                      "the recipe's decode.lm)."),
    click.option("--lm-weight", type=click.FloatRange(min=0),
                 help="Weight of the language model's log-probability (default: the recipe's "
                      "decode.lm_weight)."),
    click.option("--lm-beam", type=click.IntRange(min=1),
                 help="Word sequences the language model keeps per line (default: the "
                      "recipe's decode.lm_beam; 1 = each word given the words chosen before)."),
    click.option("--channel", type=click.Path(file_okay=False),
                 help="A run of the reverse direction (target script -> source script) whose "
                      "log-probability of the source given each hypothesis reranks the beam "
                      "(default: the recipe's decode.channel)."),
    click.option("--channel-weight", type=click.FloatRange(min=0),
                 help="Weight of the reverse model's log-probability (default: the recipe's "
                      "decode.channel_weight)."),
    click.option("--channel-top", type=click.IntRange(min=0),
                 help="Hypotheses the channel scores, the first after the prior's reranking "
                      "(or --n-best, if more); the others leave the list (default: the "
                      "recipe's decode.channel_top; 0 = all)."),
    click.option("--dictionary", type=click.Path(dir_okay=False),
                 help="A SOURCE<TAB>TARGET file (or a glob pattern of several) whose targets "
                      "join each source's beam, scored by the model (default: the recipe's "
                      "decode.dictionary)."),
)


def _text_options(command):
    """Adds TEXT_OPTIONS, which reach :func:`translit.load` under the same names."""
    for option in reversed(TEXT_OPTIONS):
        command = option(command)
    return command


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
@_text_options
@click.option("--batch-size", type=click.IntRange(min=1), help="Sentences per batch.")
@click.option("--window", type=click.IntRange(min=1),
              help="Lines read and sorted by length at a time (default: 32 batches); output "
                   "appears window by window and memory stays bounded on any input size.")
@click.option("--attention-plot", type=click.Path(file_okay=False),
              help="Also write one attention heatmap per sentence, DIR/LINE.png (attention "
                   "models).")
@_user_errors
def translate(file, model_paths, output, beam, n_best, checkpoint, batch_size, window,
              attention_plot, **text_options):
    """Translate FILE (or stdin), one sentence per line, keeping the line order."""
    from translit.api import load
    from translit.data.corpus import read_lines
    from translit.export.on_device import is_litert_export
    from translit.utils.progress import LineProgress

    lines = read_lines(file)  # a missing file is named before the model is looked for
    if not model_paths or not all(map(is_litert_export, model_paths)):
        _start_tensorflow()  # a LiteRT export runs without it
        from translit.runs.directory import latest_run

        model_paths = model_paths or [latest_run()]
    model = load(model_paths, beam=beam, checkpoint=checkpoint, **text_options)
    lines = list(lines) if attention_plot else lines
    # Options that do not fit the model (--n-best over the beam) stop here, before any work.
    windows = model.translate_windows(lines, window=window, n_best=n_best, batch_size=batch_size)
    if attention_plot:
        _plot_attention(model, lines, batch_size, attention_plot)
    progress = LineProgress(_count_lines(file) if sys.stderr.isatty() else None)
    done = 0
    with _output(output) as out:
        for results in windows:
            if n_best:
                out.write("".join(f"{done + i} ||| {hyp.text} ||| {hyp.score:.4f}\n"
                                  for i, hyps in enumerate(results) for hyp in hyps))
            else:
                out.write("".join(line + "\n" for line in results))
            out.flush()  # window by window: the first lines appear before the last are read
            done += len(results)
            progress.update(done)
    progress.finish()


def _count_lines(file) -> Optional[int]:
    """The number of lines of a plain file (for the time left), None for stdin or ``.gz``."""
    if file in (None, "-") or file.endswith(".gz"):
        return None
    with open(file, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


@contextlib.contextmanager
def _output(path):
    """stdout, or ``path`` written as ``path.partial`` and renamed when complete."""
    if not path:
        yield sys.stdout
        return
    from translit.utils.files import atomic_write

    with atomic_write(path) as f:
        yield f


def _plot_attention(model, lines, batch_size, directory):
    from translit.utils.plots import plot_attention

    os.makedirs(directory, exist_ok=True)
    width = len(str(len(lines)))
    for index, weights, source, target in model.attention_maps(lines, batch_size):
        plot_attention(weights, source, target,
                       os.path.join(directory, f"{index + 1:0{width}d}.png"))


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="PNG file (default: RUN_DIR/curves.png).")
@_user_errors
def plot(run_dir, output):
    """Plot RUN_DIR's training loss, dev loss and dev scores against the step into a PNG."""
    _start_tensorflow()
    from translit.runs.directory import RunDir
    from translit.utils.plots import plot_curves

    run = RunDir(run_dir)
    run.load_recipe()  # a clear error for a directory that is not a run
    output = output or os.path.join(run_dir, "curves.png")
    click.echo(plot_curves(run.read_metrics(), output, os.path.basename(run_dir)))


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--last", type=click.IntRange(min=2),
              help="How many of the newest kept checkpoints to average (default: up to 5, "
                   "as many as the run keeps).")
@_user_errors
def average(run_dir, last):
    """Average the weights of RUN_DIR's last checkpoints into RUN_DIR/checkpoints/average;
    translate or export them with --checkpoint average."""
    _start_tensorflow()
    from translit.training.averaging import average_checkpoints

    click.echo(average_checkpoints(run_dir, last))


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("-m", "--model", "run_dir", help="Run directory (default: the latest under ./runs).")
@click.option("--beam", type=click.IntRange(min=1),
              help="Beam size baked into the export (default: the recipe's).")
@click.option("--checkpoint", help=CHECKPOINT_HELP)
@click.option("--format", "export_format", type=click.Choice(["savedmodel", "litert"]),
              default="savedmodel", show_default=True,
              help="savedmodel: strings in and out, for TensorFlow. litert: OUT_DIR/model.tflite "
                   "(ids in, n-best ids and scores out, builtin operators only) and "
                   "OUT_DIR/translit.json, for apps.")
@click.option("--quantize", type=click.Choice(["none", "dynamic", "float16"]), default="none",
              show_default=True,
              help="LiteRT weights: none (float32), dynamic (int8) or float16.")
@click.option("--without-lm", is_flag=True,
              help="Export a run whose recipe sets decode.lm, decode.channel or "
                   "decode.dictionary without them (an export carries the word model and its "
                   "word prior).")
@_user_errors
def export(out_dir, run_dir, beam, checkpoint, export_format, quantize, without_lm):
    """Export a run to OUT_DIR: a SavedModel (sentences in, translations and scores out) or a
    LiteRT model for apps (--format litert)."""
    if quantize != "none" and export_format != "litert":
        raise UserError("--quantize applies to --format litert; a SavedModel keeps float32 "
                        "weights")
    _start_tensorflow()
    from translit.runs.directory import latest_run

    run_dir = run_dir or latest_run()
    if export_format == "litert":
        from translit.export.litert import export_litert

        export_litert(run_dir, out_dir, beam, checkpoint, quantize, without_lm)
    else:
        from translit.export.saved_model import export as write_export

        write_export(run_dir, out_dir, beam, checkpoint, without_lm)
    click.echo(out_dir)


@main.command()
@click.argument("hypotheses", required=False, type=click.Path(dir_okay=False))
@click.option("--ref", "-r", type=click.Path(dir_okay=False),
              help="Reference file (metric scoring).")
@click.option("--metrics", default="bleu,chrf", show_default=True, type=CommaSeparated(METRICS),
              help="Comma-separated: bleu, chrf, ter, accuracy (exact match), cer, wer.")
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
    from translit.data.corpus import STDIN, line_counts_differ, read_lines

    _reject_unused_options(("ref", "metrics") if run_dir else ("src", "checkpoint", "batch_size"),
                           "with --model" if run_dir else "without --model")
    hyps = list(read_lines(hypotheses))
    other = src if run_dir else ref
    if other is None:
        raise UserError("score --model needs --src SOURCE_FILE, the sentences that HYPOTHESES "
                        "translate" if run_dir else
                        "score needs --ref REFERENCE_FILE (or --model RUN_DIR --src SOURCE_FILE)")
    lines = list(read_lines(other))
    if len(lines) != len(hyps):
        name = "<stdin>" if hypotheses in (None, STDIN) else hypotheses
        raise line_counts_differ(name, len(hyps), other, len(lines))
    if run_dir:
        _start_tensorflow()
        _score_with_model(run_dir, checkpoint, lines, hyps, batch_size, as_json)
        return
    from translit.decoding.scoring import score as compute

    if "cer" in metrics:
        _start_tensorflow()
    results = compute(hyps, lines, metrics)
    if as_json:
        click.echo(json.dumps({name: {k: r[k] for k in ("score", "signature")}
                               for name, r in results.items()}, indent=1))
    else:
        for result in results.values():
            click.echo(result["text"])


def _reject_unused_options(names, when: str) -> None:
    """A UserError for an option given on the command line that this use of it would ignore."""
    context = click.get_current_context()
    for param in context.command.params:
        given = context.get_parameter_source(param.name) == click.core.ParameterSource.COMMANDLINE
        if param.name in names and given:
            raise UserError(f"{max(param.opts, key=len)} has no use {when}; remove it")


def _score_with_model(run_dir, checkpoint, sources, targets, batch_size, as_json):
    """One ``LOG-PROB<TAB>TOKENS`` line per pair; a summary (per-token mean, perplexity)."""
    from translit.decoding.likelihood import forced_scores

    summary = forced_scores(run_dir, sources, targets, checkpoint, batch_size)
    results = summary.pop("scores")
    if as_json:
        click.echo(json.dumps({"scores": [p for p, _ in results], **summary}))
    else:
        sys.stdout.write("".join(f"{p:.4f}\t{n}\n" for p, n in results))
        sys.stdout.flush()
        click.echo(" ".join(f"{k}={v}" for k, v in summary.items()), err=True)


@main.command()
@click.option("-m", "--model", "model_paths", multiple=True,
              help="Run directory or exported SavedModel (default: the latest run under ./runs). "
                   "Repeat with run directories to serve their ensemble.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; other than loopback needs --api-key-file or "
                   "--insecure.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--beam", type=click.IntRange(min=1), help="Beam size (run directories).")
@click.option("--checkpoint", help=CHECKPOINT_HELP)
@_text_options
@click.option("--name", help="The model's name in /v1/models/NAME (default: the folder name).")
@click.option("--max-batch-size", default=64, show_default=True, type=click.IntRange(min=1),
              help="Sentences per model call at most.")
@click.option("--max-delay-ms", default=5.0, show_default=True, type=click.FloatRange(min=0),
              help="How long a request waits for others to share its model call (requests "
                   "queued while the model runs share it anyway; 0 for one client's lowest "
                   "latency, as suggestions while typing).")
@click.option("--max-queue", default=1024, show_default=True, type=click.IntRange(min=1),
              help="Sentences waiting at most; more are answered 503 with Retry-After.")
@click.option("--max-body-bytes", default=1 << 20, show_default=True,
              type=click.IntRange(min=1), help="Request body size limit (413 above).")
@click.option("--max-texts", default=256, show_default=True, type=click.IntRange(min=1),
              help="Texts per request at most (413 above).")
@click.option("--max-chars", default=2000, show_default=True, type=click.IntRange(min=1),
              help="Characters per text at most (413 above).")
@click.option("--api-key-file", type=click.Path(dir_okay=False),
              help="File holding the key that /v1/* and /metrics require as "
                   "'Authorization: Bearer KEY'.")
@click.option("--insecure", is_flag=True,
              help="Allow a non-loopback --host without an API key.")
@_user_errors
def serve(model_paths, host, port, beam, checkpoint, name, max_batch_size, max_delay_ms,
          max_queue, max_body_bytes, max_texts, max_chars, api_key_file, insecure,
          **text_options):
    """Serve a model over HTTP: a JSON API, TensorFlow Serving's REST predict format, metrics,
    and a page to try it at /. Stops on Ctrl-C or SIGTERM after answering what it accepted."""
    _start_tensorflow()
    from translit.runs.directory import latest_run
    from translit.serve import RequestLimits
    from translit.serve import serve as run_service

    run_service(model_paths or [latest_run()], host, port, beam=beam, checkpoint=checkpoint,
                name=name, api_key_file=api_key_file, insecure=insecure,
                max_batch_size=max_batch_size, max_delay_ms=max_delay_ms, max_queue=max_queue,
                limits=RequestLimits(max_body_bytes, max_texts, max_chars), **text_options)


@main.group()
def corpus():
    """Named corpora (list, fetch) and corpus checks."""


@corpus.command("list")
def corpus_list():
    """List the named corpora: languages, size, license, citation."""
    from translit.data.named_corpora import REGISTRY

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
    from translit.data.named_corpora import DEFAULT_DIR, fetch

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
    from translit.data.corpus_check import check_parallel, format_report

    report = check_parallel(src, tgt, max_ratio)
    click.echo(json.dumps(report, ensure_ascii=False) if as_json else format_report(report))


@corpus.command("backtranslate")
@click.argument("text", type=click.Path(dir_okay=False))
@click.option("-m", "--model", "model_path", required=True,
              help="A model trained the other way (target -> source): run directory or export.")
@click.option("--pairs", nargs=2, required=True, type=click.Path(dir_okay=False),
              metavar="SRC TGT",
              help="The real pairs: written first; TEXT's units their targets hold are skipped.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The TSV corpus to write (a recipe's data.train: {tsv: FILE}).")
@click.option("--unit", type=click.Choice(["word", "line"]), default="word", show_default=True,
              help="Back-translate each distinct word of TEXT, or each distinct line.")
@click.option("--n-best", default=3, show_default=True, type=click.IntRange(min=1),
              help="Back-translations kept per unit, at most.")
@click.option("--margin", default=1.0, show_default=True, type=click.FloatRange(min=0),
              help="Keep those within this log-probability of the unit's best one.")
@click.option("--include-known", is_flag=True,
              help="Back-translate what the pairs' targets hold too (more ways to type the "
                   "text's frequent words), not only what they lack.")
@_user_errors
def corpus_backtranslate(text, model_path, pairs, output, unit, n_best, margin, include_known):
    """Write a training corpus: the real PAIRS, then synthetic pairs for what TEXT (in the
    target language) holds and the pairs lack (or all of it), written back by a reverse model."""
    from translit.api import load
    from translit.text.backtranslation import backtranslate_corpus

    counts = backtranslate_corpus(load(model_path, unit="line"), text, *pairs, output, unit,
                                  n_best, margin, include_known)
    click.echo(json.dumps(counts, ensure_ascii=False))


@corpus.command("romanize")
@click.argument("text", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The SOURCE<TAB>TARGET file to write (for decode.dictionary).")
@click.option("--scheme", type=click.Choice(sorted(SCHEMES)), default="iso15919",
              show_default=True, help="The romanization, folded to ASCII letters as typed.")
@click.option("--script", type=click.Choice(SCRIPTS), default="devanagari", show_default=True,
              help="The script of TEXT's words.")
@_user_errors
def corpus_romanize(text, output, scheme, script):
    """Write each distinct word of native-script TEXT beside its romanization in a scholarly
    scheme without diacritics ("vatanukulita" for वातानुकूलित): dictionary pairs for text typed
    that way."""
    from translit.text.romanize import romanize_text

    click.echo(json.dumps(romanize_text(text, output, script, scheme), ensure_ascii=False))


if __name__ == "__main__":
    main()
