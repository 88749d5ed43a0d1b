"""How translit scales with the corpus, as JSON: for training corpora of 1x, 10x and 100x
Multi30k, the time from the start of `translit train` to its first step, its peak memory and its
training target tokens/s; for `translit translate`, the time to the first output line, the
total time and the peak memory on files of 10k, 100k and 1M lines.

Usage:
  python benchmarks/scale.py --work /tmp/scale [--factors 1,10,100] [--steps 40]
      [--compare-with OTHER_SOURCE_TREE] [--translate-model RUN --translate-source FILE
      --translate-lines 10000,100000,1000000]

Every figure comes from a `translit` subprocess (``python -m translit.cli``), so the process
start is included and the peak resident memory is the child's own (``wait4``). Each training
runs ``--steps`` steps of the state-vector Multi30k recipe (no evaluation, no checkpoint) and is
then killed; it runs twice: once into an empty run directory (SentencePiece trained on a
streamed sample) and once more into the same directory (its tokenizer kept). Training tokens/s
is the median of the per-step rates after ``--steps`` / 2 steps. With ``--compare-with``, the
1x figures are measured for that source tree too (e.g. a worktree of an older commit), each
trainer right after the other.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from machine import describe  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECIPE = os.path.join(REPO, "recipes", "multi30k_de-en_sp8k.yaml")


def make_corpus(corpus_dir: str, work: str, factor: int) -> tuple:
    """Multi30k's training files repeated ``factor`` times under ``work``."""
    paths = []
    for side in ("de", "en"):
        path = os.path.join(work, f"train_x{factor}.{side}")
        if not os.path.exists(path):
            with open(os.path.join(corpus_dir, f"train.{side}"), "rb") as f:
                data = f.read()
            with open(path + ".tmp", "wb") as f:
                for _ in range(factor):
                    f.write(data)
            os.replace(path + ".tmp", path)
        paths.append(path)
    return tuple(paths)


def run_training(source_tree: str, corpus: tuple, run_dir: str, steps: int) -> dict:
    """Starts `translit train`, waits for ``steps`` logged steps, kills it."""
    settings = {"data.train.src": corpus[0], "data.train.tgt": corpus[1], "data.test": "null",
                "train.max_steps": 10 ** 6, "train.log_every": 1, "train.eval_every": 10 ** 6,
                "train.checkpoint_every": 10 ** 6}
    command = [sys.executable, "-m", "translit.cli", "train", RECIPE, "--run-dir", run_dir]
    for key, value in settings.items():
        command += ["--set", f"{key}={value}"]
    metrics = os.path.join(run_dir, "metrics.jsonl")
    if os.path.exists(metrics):  # a run without a checkpoint starts afresh: its metrics too
        os.remove(metrics)
    start = time.monotonic()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=_env(source_tree))
    first_step_s, records = None, []
    while len(records) < steps:
        if process.poll() is not None:
            raise RuntimeError(f"translit train exited with {process.returncode}: {command}")
        records = [json.loads(line) for line in _lines(metrics) if '"type": "train"' in line]
        if records and first_step_s is None:
            first_step_s = time.monotonic() - start
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    _, _, usage = os.wait4(process.pid, 0)
    rates = [record["target_tokens_per_s"] for record in records[steps // 2:]]
    return {"start_to_first_step_s": round(first_step_s, 1),
            "peak_memory_gb": round(usage.ru_maxrss / 2 ** 20, 2),
            "target_tokens_per_s_median": round(statistics.median(rates)),
            "steps_measured": len(rates)}


def run_translation(model: str, source: str, lines: int, work: str) -> dict:
    """`translit translate` (greedy) of ``lines`` lines of ``source`` repeated; output on a pipe."""
    path = os.path.join(work, f"translate_{lines}.txt")
    if not os.path.exists(path):
        with open(source, encoding="utf-8") as f:
            sentences = f.read().splitlines()
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(sentences[i % len(sentences)] + "\n" for i in range(lines))
    command = [sys.executable, "-m", "translit.cli", "translate", path, "-m", model, "--beam", "1"]
    start = time.monotonic()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, env=_env(REPO))
    first = process.stdout.readline()
    first_line_s = time.monotonic() - start
    count = 1 if first else 0
    for _ in process.stdout:
        count += 1
    _, status, usage = os.wait4(process.pid, 0)
    total = time.monotonic() - start
    return {"lines": lines, "lines_out": count, "exit_status": status >> 8,
            "first_output_line_s": round(first_line_s, 1), "total_s": round(total, 1),
            "lines_per_s": round(count / total, 1),
            "peak_memory_gb": round(usage.ru_maxrss / 2 ** 20, 2)}


def _lines(path: str) -> list:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def _env(source_tree: str) -> dict:
    return {**os.environ, "PYTHONPATH": source_tree, "TF_CPP_MIN_LOG_LEVEL": "2"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", required=True, help="a directory for corpora and runs")
    parser.add_argument("--corpus-dir", default=os.path.join(REPO, "..", "shared", "corpora",
                                                             "multi30k"))
    parser.add_argument("--factors", default="1,10,100", help="empty: no training")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--compare-with", help="another translit source tree, for the 1x run")
    parser.add_argument("--translate-model", help="a run directory to translate with")
    parser.add_argument("--translate-source", help="sentences to repeat into the input files")
    parser.add_argument("--translate-lines", default="10000,100000,1000000")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    result = {"machine": describe(), "recipe": os.path.relpath(RECIPE, REPO), "training": [],
              "translate": []}
    for factor in (int(factor) for factor in args.factors.split(",") if factor):
        corpus = make_corpus(args.corpus_dir, args.work, factor)
        trees = [("this", REPO)] + ([("compare", args.compare_with)]
                                    if args.compare_with and factor == 1 else [])
        for name, tree in trees:
            run_dir = os.path.join(args.work, f"run_x{factor}_{name}")
            subprocess.run(["rm", "-rf", run_dir], check=True)
            entry = {"factor": factor, "pairs": 29_000 * factor, "source_tree": tree,
                     "new_run": run_training(tree, corpus, run_dir, args.steps),
                     "tokenizer_kept": run_training(tree, corpus, run_dir, args.steps)}
            result["training"].append(entry)
            print(json.dumps(entry), file=sys.stderr, flush=True)
    if args.translate_model:
        for lines in map(int, args.translate_lines.split(",")):
            entry = run_translation(args.translate_model, args.translate_source, lines, args.work)
            result["translate"].append(entry)
            print(json.dumps(entry), file=sys.stderr, flush=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
