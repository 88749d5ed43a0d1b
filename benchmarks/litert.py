"""LiteRT exports of a run against `translit translate`: agreement, accuracy, size, latency.

Usage: python benchmarks/litert.py --run RUN --source TEST.src --ref TEST.ref --work DIR
           [--quantize none,dynamic,float16] [--metrics accuracy,cer] [--latency-lines 1000]

Exports the run once per quantization (`translit export --format litert`), translates the
source with the run (the recipe's beam, batched, TensorFlow) and with each export (one sentence
per interpreter call), and prints one JSON object: per export the file size, the share of lines
whose 1-best is identical to translate's, the scores against the reference, and, measured in a
child process that imports no TensorFlow (one interpreter thread, the process pinned to one
core with taskset where available), the latency of one sentence (p50/p95, tokenization
included) and the process's peak resident memory (VmHWM).
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from machine import describe  # noqa: E402

# Runs in a child process without TensorFlow: latency per sentence and peak memory.
LATENCY = r"""
import json, statistics, sys, time
sys.modules["tensorflow"] = None

def peak_mb():  # VmHWM: this process's own peak (ru_maxrss would include the parent's, by fork)
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) / 1024

from translit.export.on_device import OnDeviceModel
model = OnDeviceModel(sys.argv[1], num_threads=1)
lines = json.loads(sys.stdin.read())
times = []
for line in lines:
    start = time.perf_counter()
    model.n_best(line)
    times.append(time.perf_counter() - start)
times.sort()
print(json.dumps({"lines": len(times), "p50_ms": 1000 * statistics.median(times),
                  "p95_ms": 1000 * times[int(0.95 * (len(times) - 1))],
                  "max_ms": 1000 * times[-1],
                  "peak_rss_mb": peak_mb()}))
"""


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def latency(export_dir, lines):
    pin = ["taskset", "-c", "0"] if os.path.exists("/usr/bin/taskset") else []
    done = subprocess.run(pin + [sys.executable, "-c", LATENCY, export_dir],
                          input=json.dumps(lines), capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--ref", required=True)
    parser.add_argument("--work", required=True, help="where the exports go (a new directory)")
    parser.add_argument("--quantize", default="none,dynamic,float16")
    parser.add_argument("--metrics", default="accuracy,cer")
    parser.add_argument("--latency-lines", type=int, default=1000)
    args = parser.parse_args()

    import translit
    from translit.decoding.scoring import score
    from translit.export.litert import export_litert

    sources, references = read_lines(args.source), read_lines(args.ref)
    metrics = args.metrics.split(",")

    def scores(hypotheses):
        return {name: value["score"] for name, value in
                score(hypotheses, references, metrics).items()}

    start = time.perf_counter()
    expected = translit.load(args.run).translate(sources)
    result = {"machine": describe(), "run": args.run, "lines": len(sources),
              "translate": {"seconds": time.perf_counter() - start,
                            "scores": scores(expected)},
              "exports": {}}
    os.makedirs(args.work)
    for quantize in args.quantize.split(","):
        export_dir = os.path.join(args.work, quantize)
        start = time.perf_counter()
        export_litert(args.run, export_dir, quantize=quantize)
        exported = time.perf_counter() - start
        got = translit.load(export_dir).translate(sources)
        result["exports"][quantize] = {
            "export_seconds": exported,
            "size_mb": os.path.getsize(os.path.join(export_dir, "model.tflite")) / 2 ** 20,
            "identical_to_translate": sum(a == b for a, b in zip(got, expected)) / len(sources),
            "scores": scores(got),
            "latency": latency(export_dir, sources[:args.latency_lines]),
        }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
