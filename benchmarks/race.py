"""Time to quality: translit recipes and OpenNMT-tf 2.32 trained side by side, scores by minute.

Usage:
  python -m venv /tmp/onmt && /tmp/onmt/bin/pip install OpenNMT-tf==2.32.0 "tensorflow-cpu==2.13.*"
  python benchmarks/race.py --work /tmp/race --minutes 60 --every 5 --dev --opennmt /tmp/onmt \
      --translit "shipped=recipes/multi30k_de-en_attention.yaml"
  python benchmarks/race.py --work /tmp/race2 --minutes 30 \
      --translit "shipped=recipes/multi30k_de-en_attention.yaml" \
      --translit "small=recipes/multi30k_de-en_attention.yaml train.batch_tokens=1024"
  python benchmarks/race.py --work /tmp/race3 --minutes 40 --metrics accuracy,cer \
      --translit "shipped=recipes/dakshina_hi_char.yaml"
  python benchmarks/race.py --work /tmp/race4 --minutes 15 --opennmt /tmp/onmt \
      --peer "tanh=model.attention_layer_activation=tanh" \
      --peer "clip=params.clip_gradients=5.0"

Every entrant trains in its own process pinned to its own core (``taskset``; nothing else
limited), all at once, from the same SentencePiece pieces: trained once from the first recipe and
copied into each translit run directory; OpenNMT-tf (its own virtual environment, never a
translit dependency) reads the same pieces as text, with one vocabulary per side, and trains as
issue 26's reference configuration does (benchmarks/opennmt/small256.py and small256.yml: 2 x 256
LSTM, Luong attention with input feeding and a linear attention layer, embeddings 256, dropout
0.2, 64 sentences per batch, Adam 1e-3, no clipping, no label smoothing, no length penalty).
``--peer NAME=KEY=VALUE ...`` enters a variant of that peer instead (several may run): a dotted
key of small256.yml (``train.length_bucket_width=1``), ``model.attention_layer_activation=tanh``
or ``vocabulary=joint`` (the joint SentencePiece vocabulary on both sides); without ``--peer``
the reference itself runs, named ``opennmt-tf``.

Start-up counts: the clock of an entrant starts when its process starts. At every mark (each
``--every`` minutes) the race copies each entrant's newest checkpoint; its minute is when that
checkpoint was written (every entrant saves every ``--save-every`` steps, so it lags the mark a
little; the peer's reference saves every 200); an entrant that finishes early (early stopping)
keeps its last checkpoint at later marks. After ``--minutes`` the trainings stop and the copies
are scored outside the race's time, one core per job: the first recipe's test set (and its dev
set with ``--dev``) translated with beam 5 and scored with ``--metrics`` (sacreBLEU BLEU and chrF
by default; word accuracy and CER for transliteration). Writes WORK/race.json (printed too) and
WORK/race.png (the first metric).
"""

import argparse
import concurrent.futures
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [HERE, os.path.join(HERE, "opennmt")]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from compare import ONMT_RATE  # noqa: E402
from machine import describe  # noqa: E402

ONE_THREAD = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
              "OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}


def parse_translit(spec: str) -> dict:
    """``NAME=RECIPE [KEY=VALUE ...]`` -> {"name", "recipe", "overrides"}."""
    name, sep, rest = spec.partition("=")
    words = shlex.split(rest)
    if not sep or not name or not words:
        raise SystemExit(f"--translit {spec!r}: expected NAME=RECIPE [KEY=VALUE ...]")
    return {"name": name, "kind": "translit", "recipe": words[0], "overrides": words[1:]}


def parse_peer(spec: str) -> dict:
    """``NAME[=KEY=VALUE ...]`` -> {"name", "kind": "opennmt", "changes": {key: value}}; values
    are read as YAML (``5.0`` a number, ``tanh`` a string)."""
    import yaml

    name, sep, rest = spec.partition("=")
    pairs = [word.partition("=") for word in (shlex.split(rest) if sep else [])]
    if not name or any(not key or not equals for key, equals, _ in pairs):
        raise SystemExit(f"--peer {spec!r}: expected NAME=KEY=VALUE [KEY=VALUE ...]")
    changes = {key: yaml.safe_load(value) for key, _, value in pairs}
    for key, value in changes.items():
        if (key in PEER_OPTIONS and value not in PEER_OPTIONS[key]) or (
                key.startswith("model.") and key not in PEER_OPTIONS):
            raise SystemExit(f"--peer {spec!r}: {key}={value} is not a variant this race "
                             f"runs; beside small256.yml's keys it takes {PEER_OPTIONS}")
    return {"name": name, "kind": "opennmt", "changes": changes}


# What a peer variant may change beyond small256.yml, and the choices (the reference's first):
# the attention layer's activation, and the vocabularies (one per side of the pieces the
# training data uses, or the joint SentencePiece vocabulary on both sides, as race.py had it).
PEER_OPTIONS = {"model.attention_layer_activation": ("none", "tanh"),
                "vocabulary": ("sides", "joint")}


def apply_changes(config: dict, changes: dict) -> dict:
    """Sets a peer variant's dotted keys in its small256.yml ``config``. Returns the options
    of :data:`PEER_OPTIONS`, the reference's where the variant does not change them."""
    options = {key: choices[0] for key, choices in PEER_OPTIONS.items()}
    for key, value in changes.items():
        if key in options:
            options[key] = value
            continue
        *sections, leaf = key.split(".")
        node = config
        for section in sections:
            node = node.setdefault(section, {})
        node[leaf] = value
    return options


def newest_checkpoint(directory: str):
    """The newest complete checkpoint's path prefix in ``directory`` (TensorFlow's
    ``checkpoint`` state file names it once its files are written), or None."""
    state = os.path.join(directory, "checkpoint")
    try:
        with open(state, encoding="utf-8") as f:
            first = f.readline()
    except OSError:
        return None
    if not first.startswith("model_checkpoint_path:"):
        return None
    name = first.split(":", 1)[1].strip().strip('"')
    return name if os.path.isabs(name) else os.path.join(directory, name)


def copy_checkpoint(prefix: str, destination: str):
    """Copies the files of checkpoint ``prefix`` into ``destination``. Returns the copy's prefix
    and when the checkpoint was written (its index file's time), or None if it vanished."""
    directory, stem = os.path.split(prefix)
    os.makedirs(destination, exist_ok=True)
    try:
        written = os.path.getmtime(prefix + ".index")
        for name in os.listdir(directory):
            if name.startswith(stem + "."):
                shutil.copy2(os.path.join(directory, name), destination)
    except FileNotFoundError:  # deleted by the trainer's max_to_keep while copying
        return None
    return os.path.join(destination, stem), written


def checkpoint_step(prefix: str) -> int:
    """The step in a ``.../ckpt-STEP`` prefix."""
    return int(prefix.rsplit("-", 1)[1])


def detokenize_pieces(line: str) -> str:
    """SentencePiece pieces separated by spaces -> text."""
    return "".join(line.split()).replace("\u2581", " ").strip()


class Entrant:
    """One training in the race: its command, where it checkpoints, its marks."""

    SAVED = ("spec", "core", "started", "marks", "rate", "run_dir", "pieces", "onmt")

    def __init__(self, spec: dict, work: str, core: int):
        self.name, self.spec, self.core = spec["name"], spec, core
        self.dir = os.path.join(work, self.name)
        self.marks, self.process, self.started = [], None, None

    def state(self) -> dict:
        """What scoring needs, for WORK/marks.json."""
        return {key: getattr(self, key) for key in self.SAVED if hasattr(self, key)}

    @classmethod
    def from_state(cls, state: dict, work: str) -> "Entrant":
        entrant = cls(state["spec"], work, state["core"])
        for key, value in state.items():
            setattr(entrant, key, value)
        return entrant

    def start(self, command, checkpoint_dir, log_name="train.log"):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": REPO}
        self.checkpoint_dir = checkpoint_dir
        self.log = open(os.path.join(self.dir, log_name), "w", encoding="utf-8")
        self.started = time.time()
        self.process = subprocess.Popen(["taskset", "-c", str(self.core), *command], env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT, cwd=REPO)

    def take_mark(self, minute: float):
        prefix = newest_checkpoint(self.checkpoint_dir)
        copied = prefix and copy_checkpoint(prefix, os.path.join(self.dir, "marks",
                                                                 f"m{minute:g}"))
        if copied:
            path, written = copied
            self.marks.append({"mark_minute": minute, "step": checkpoint_step(path),
                               "minute": round((written - self.started) / 60, 2),
                               "checkpoint": path})
        else:
            self.marks.append({"mark_minute": minute, "step": 0, "minute": None,
                               "checkpoint": None})

    def training_rate(self):
        """The median target tokens/s (end-of-sentence tokens counted) of this entrant's log
        windows after the first (graph building, first batches), or None before two windows.
        Evaluation is outside translit's windows; checkpoint writes are inside both's."""
        if self.spec["kind"] == "translit":
            with open(os.path.join(self.run_dir, "metrics.jsonl"), encoding="utf-8") as f:
                rates = [r["target_tokens_per_s"] for r in map(json.loads, f)
                         if r["type"] == "train"]
        else:
            with open(os.path.join(self.dir, "train.log"), encoding="utf-8") as f:
                rates = [int(m.group(3)) for m in ONMT_RATE.finditer(f.read())]
        return round(statistics.median(rates[1:])) if len(rates) > 1 else None

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def prepare_pieces(recipe_path: str, work: str) -> str:
    """Trains the first recipe's tokenizer once, as `translit train` would. Returns its dir.

    A joint SentencePiece model is saved with each side's pieces too, which entrants with
    ``tokenizer.side_vocabularies`` read (the model itself does not depend on that key).
    """
    from translit.recipe import load_recipe
    from translit.training.preparation import train_recipe_tokenizers

    directory = os.path.join(work, "tokenizer")
    if not os.path.isdir(directory):
        recipe = load_recipe(recipe_path)
        config = recipe.tokenizer
        config.side_vocabularies = config.type == "sentencepiece" and config.joint
        train_recipe_tokenizers(recipe, directory)
    return directory


def start_translit(entrant: Entrant, tokenizer_dir: str, save_every: int):
    run_dir = os.path.join(entrant.dir, "run")
    shutil.copytree(tokenizer_dir, os.path.join(run_dir, "tokenizer"))
    sets = [*entrant.spec["overrides"], f"train.checkpoint_every={save_every}",
            "train.keep_checkpoints=3", "train.max_steps=1000000"]
    entrant.run_dir = run_dir
    entrant.start([sys.executable, "-m", "translit.cli", "train", entrant.spec["recipe"],
                   "--run-dir", run_dir, *[arg for s in sets for arg in ("--set", s)]],
                  os.path.join(run_dir, "checkpoints"))


def start_opennmt(entrant: Entrant, tokenizer_dir: str, recipe_path: str, save_every: int):
    """Starts OpenNMT-tf as issue 26's reference runs it: the translit run's SentencePiece pieces
    as text, one vocabulary per side built by ``onmt-build-vocab --size 0`` from what that side
    of the training data uses, benchmarks/opennmt/small256.{py,yml} with only the paths and the
    checkpoint cadence set here; a ``--peer`` variant with its changes."""
    import yaml

    from translit.recipe import load_recipe

    from prepare import write_pieces

    data = load_recipe(recipe_path).data
    files = write_pieces(os.path.join(tokenizer_dir, "joint.model"),
                         {"train": data.train, "dev": data.valid, "test": data.test},
                         entrant.dir)
    entrant.pieces = files
    tools = os.path.join(entrant.spec["venv"], "bin")
    with open(os.path.join(HERE, "opennmt", "small256.yml"), encoding="utf-8") as f:
        config = yaml.safe_load(f)
    options = apply_changes(config, entrant.spec.get("changes", {}))
    vocabularies = [os.path.join(entrant.dir, f"{side}.vocab") for side in ("src", "tgt")]
    # Built by OpenNMT-tf's tool, which puts its <blank>, <s>, </s> first as its models expect.
    builds = [[pieces] for pieces in files["train"]]
    if options["vocabulary"] == "joint":  # write_pieces's: every piece but translit's specials
        vocabularies[1] = vocabularies[0] = os.path.join(entrant.dir, "joint.vocab")
        builds = [["--from_vocab", files["vocab"]]]
    for source, vocabulary in zip(builds, vocabularies):
        subprocess.run([os.path.join(tools, "onmt-build-vocab"), "--size", "0",
                        "--save_vocab", vocabulary, *source], check=True, capture_output=True)
    config["model_dir"] = os.path.join(entrant.dir, "model")
    config["data"].update({
        "train_features_file": files["train"][0], "train_labels_file": files["train"][1],
        "eval_features_file": files["dev"][0], "eval_labels_file": files["dev"][1],
        "source_vocabulary": vocabularies[0], "target_vocabulary": vocabularies[1]})
    config["train"]["save_checkpoints_steps"] = save_every
    entrant.config = os.path.join(entrant.dir, "config.yml")
    with open(entrant.config, "w", encoding="utf-8") as f:
        yaml.safe_dump(config, f)
    model = os.path.join(HERE, "opennmt", "small256.py")
    activation = options["model.attention_layer_activation"]
    if activation != "none":
        model = os.path.join(entrant.dir, "small256_variant.py")
        with open(model, "w", encoding="utf-8") as f:
            f.write(f"import sys\nsys.path.insert(0, {os.path.join(HERE, 'opennmt')!r})\n"
                    f"from small256 import Small256\n\n\n"
                    f"def model():\n    return Small256(attention_layer_activation="
                    f"{activation!r})\n")
    entrant.onmt = [os.path.join(tools, "onmt-main"), "--model", model,
                    "--config", entrant.config]
    entrant.start([*entrant.onmt, "train"], config["model_dir"])


def translate_job(entrant: Entrant, mark: dict, split_name: str, split):
    """The command that translates ``split``'s sources with the mark's checkpoint (beam 5),
    and how to read its output back as detokenized lines."""
    out = os.path.join(os.path.dirname(mark["checkpoint"]), f"{split_name}.hyp")
    if entrant.spec["kind"] == "translit":
        command = [sys.executable, "-m", "translit.cli", "translate", split.src, "-m",
                   entrant.run_dir, "--checkpoint", mark["checkpoint"], "--beam", "5",
                   "--batch-size", "64", "-o", out]
        return command, out, str.rstrip
    command = [*entrant.onmt, "--checkpoint_path", mark["checkpoint"], "infer",
               "--features_file", entrant.pieces[split_name][0], "--predictions_file", out]
    return command, out, detokenize_pieces


def score_marks(entrants, splits: dict, cores: list, metrics=("bleu", "chrf")):
    """Translates and scores every mark's checkpoint, one job per core: each mark gets
    ``{split}_{metric}`` for every split and metric."""
    from translit.decoding.scoring import score

    jobs = [(entrant, mark, name, split) for entrant in entrants for mark in entrant.marks
            if mark["checkpoint"] for name, split in splits.items()]
    free = list(cores)

    def run(job):
        entrant, mark, name, split = job
        with open(split.tgt, encoding="utf-8") as f:
            references = [line.rstrip("\n") for line in f]
        core = free.pop()
        try:
            command, out, clean = translate_job(entrant, mark, name, split)
            if _line_count(out) != len(references):  # not translated yet (or cut short)
                env = {**os.environ, **ONE_THREAD, "PYTHONPATH": REPO}
                subprocess.run(["taskset", "-c", str(core), *command], env=env, cwd=REPO,
                               check=True, capture_output=True, text=True)
        finally:
            free.append(core)
        with open(out, encoding="utf-8") as f:
            hypotheses = [clean(line) for line in f]
        scores = score(hypotheses, references, list(metrics))
        for metric in metrics:
            mark[f"{name}_{metric}"] = round(scores[metric]["score"], 2)

    with concurrent.futures.ThreadPoolExecutor(len(cores)) as pool:
        for future in [pool.submit(run, job) for job in jobs]:
            future.result()


def _line_count(path: str) -> int:
    try:
        with open(path, encoding="utf-8") as f:
            return sum(1 for _ in f)
    except OSError:
        return -1


def plot(result: dict, path: str):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metric = result.get("metrics", ["bleu"])[0]
    figure, axis = plt.subplots(figsize=(7, 4.5))
    for name, entrant in result["entrants"].items():
        points = [(m["minute"], m[f"test_{metric}"]) for m in entrant["marks"]
                  if f"test_{metric}" in m]
        axis.plot(*zip(*([(0, 0)] + points)), marker="o", label=name)
    axis.set_xlabel("minutes of training (process start included)")
    axis.set_ylabel(f"test {metric} (beam 5)")
    axis.set_title(f"time to quality, one core each: {result['machine']['cpu']}", fontsize=9)
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def run_race(args, cores) -> list:
    """Starts every entrant, takes the marks, stops them. Returns the entrants."""
    recipe = args.recipe
    tokenizer_dir = prepare_pieces(recipe, args.work)
    specs = args.translit + [{**peer, "venv": args.opennmt} for peer in args.peer]
    entrants = [Entrant(spec, args.work, core) for spec, core in zip(specs, cores)]
    for entrant in entrants:
        os.makedirs(entrant.dir)
        if entrant.spec["kind"] == "translit":
            start_translit(entrant, tokenizer_dir, args.save_every)
        else:
            start_opennmt(entrant, tokenizer_dir, recipe, args.save_every)
    marks = [args.every * i for i in range(1, int(args.minutes / args.every + 1e-9) + 1)]
    try:
        for minute in marks:
            for entrant in entrants:
                time.sleep(max(0.0, entrant.started + minute * 60 - time.time()))
                if entrant.process.poll():  # an entrant that finished keeps its last checkpoint
                    raise SystemExit(f"{entrant.name} failed; see {entrant.log.name}")
                entrant.take_mark(minute)
        time.sleep(max(0.0, max(e.started for e in entrants) + args.minutes * 60 - time.time()))
        for entrant in entrants:
            entrant.rate = entrant.training_rate()
    finally:
        for entrant in entrants:
            entrant.stop()
    return entrants


def data_recipe(args) -> str:
    """The recipe whose pieces and test set every entrant uses: the first translit one's."""
    return args.translit[0]["recipe"] if args.translit else DEFAULT_RECIPE


DEFAULT_RECIPE = "recipes/multi30k_de-en_attention.yaml"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", required=True, help="a new directory for runs and results")
    parser.add_argument("--translit", action="append", default=[], type=parse_translit,
                        metavar="NAME=RECIPE [KEY=VALUE ...]")
    parser.add_argument("--opennmt", metavar="VENV", help="OpenNMT-tf 2.32's virtual env")
    parser.add_argument("--peer", action="append", default=[], type=parse_peer,
                        metavar="NAME=KEY=VALUE [KEY=VALUE ...]",
                        help="a variant of the OpenNMT-tf reference (with --opennmt)")
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--every", type=float, default=5,
                        help="minutes between marks (more than --minutes: no marks, only the "
                             "training speeds)")
    parser.add_argument("--save-every", type=int, default=100, help="steps between checkpoints")
    parser.add_argument("--dev", action="store_true", help="score the dev set too")
    parser.add_argument("--metrics", default="bleu,chrf",
                        help="comma-separated: bleu, chrf, ter, accuracy, cer (the first is "
                             "plotted)")
    parser.add_argument("--score-only", action="store_true",
                        help="score the marks of a race in --work again (after a failure)")
    args = parser.parse_args()
    from translit.decoding.scoring import METRICS

    metrics = args.metrics.split(",")
    if not set(metrics) <= set(METRICS):  # before the race, not after it
        raise SystemExit(f"--metrics {args.metrics!r}: expected some of {', '.join(METRICS)}")
    cores = sorted(os.sched_getaffinity(0))
    saved = os.path.join(args.work, "marks.json")
    if args.score_only:
        with open(saved, encoding="utf-8") as f:
            state = json.load(f)
        args.translit = [e["spec"] for e in state["entrants"] if e["spec"]["kind"] == "translit"]
        args.recipe = state.get("recipe") or data_recipe(args)
        entrants = [Entrant.from_state(e, args.work) for e in state["entrants"]]
        machine, args.minutes, args.every = state["machine"], state["minutes"], state["every"]
    else:
        if args.peer and not args.opennmt:
            raise SystemExit("--peer needs --opennmt VENV")
        if args.opennmt and not args.peer:
            args.peer = [{"name": "opennmt-tf", "kind": "opennmt", "changes": {}}]
        entrants_given = len(args.translit) + len(args.peer)
        if not 1 <= entrants_given <= len(cores):
            raise SystemExit(f"give 1 to {len(cores)} entrants (one per core)")
        args.recipe = data_recipe(args)
        os.makedirs(args.work, exist_ok=True)
        entrants, machine = run_race(args, cores), describe()
        with open(saved, "w", encoding="utf-8") as f:
            json.dump({"machine": machine, "minutes": args.minutes, "every": args.every,
                       "recipe": args.recipe, "entrants": [e.state() for e in entrants]},
                      f, indent=1)
    from translit.recipe import load_recipe

    data = load_recipe(args.recipe).data
    score_marks(entrants, {"test": data.test, **({"dev": data.valid} if args.dev else {})},
                cores, metrics)
    result = {"machine": machine, "minutes": args.minutes, "every": args.every,
              "metrics": metrics,
              "entrants": {e.name: {**{k: v for k, v in e.spec.items() if k != "name"},
                                    "core": e.core,
                                    "train_target_tokens_per_s": getattr(e, "rate", None),
                                    "marks": e.marks} for e in entrants}}
    with open(os.path.join(args.work, "race.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    plot(result, os.path.join(args.work, "race.png"))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
