"""Load on `translit serve` over loopback: 1, 4, 16 and 64 concurrent clients, each sending
one-sentence requests back to back for a fixed time; requests/s, sentences/s, latency
percentiles and errors per level, and `translit translate` on the same sentences as the
reference. Prints JSON with the machine described.

    python benchmarks/serve_load.py --run-dir RUN --sentences FILE [--seconds 20]
        [--levels 1,4,16,64] [--max-delay-ms 5] [--max-batch-size 64] [--n-best K]
        [--serve-args "--unit word --beam 5"]

Suggestions as one types: `--sentences` of single words, `--n-best 5`, `--levels 1` and
`--serve-args "--unit word ..."` (each request asks for a word's five best).
"""

import argparse
import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine import describe  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, texts, n_best=None) -> int:
    body = {"texts": texts, **({"n_best": n_best} if n_best else {})}
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


def _level(url: str, sentences, clients: int, seconds: float, n_best=None) -> dict:
    """``clients`` threads send one sentence per request until ``seconds`` have passed."""
    latencies, errors, lock = [], [0], threading.Lock()
    stop = time.monotonic() + seconds

    def client(offset: int) -> None:
        index = offset
        while time.monotonic() < stop:
            start = time.perf_counter()
            status = _post(url, [sentences[index % len(sentences)]], n_best)
            with lock:
                if status == 200:
                    latencies.append(time.perf_counter() - start)
                else:
                    errors[0] += 1
            index += clients

    began = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)

    def percentile(p):
        return round(1000 * ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1)

    return {"clients": clients, "requests": len(latencies), "errors": errors[0],
            "requests_per_s": round(len(latencies) / elapsed, 1),
            "sentences_per_s": round(len(latencies) / elapsed, 1),
            "latency_ms": {"p50": percentile(0.50), "p95": percentile(0.95),
                           "p99": percentile(0.99),
                           "mean": round(1000 * statistics.fmean(ordered), 1)} if ordered else {}}


def _reference(run_dir: str, sentences) -> dict:
    """`translit translate` on the sentences as one file (process start included)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("".join(s + "\n" for s in sentences))
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "translit.cli", "translate", "-m", run_dir, f.name],
                   check=True, capture_output=True)
    elapsed = time.perf_counter() - start
    os.remove(f.name)
    return {"sentences": len(sentences), "seconds": round(elapsed, 2),
            "sentences_per_s": round(len(sentences) / elapsed, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", required=True)
    parser.add_argument("--sentences", required=True, help="one sentence per line")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--levels", default="1,4,16,64")
    parser.add_argument("--max-delay-ms", default="5")
    parser.add_argument("--max-batch-size", default="64")
    parser.add_argument("--n-best", type=int, help="each request asks for the K best")
    parser.add_argument("--serve-args", default="", help="more options of `translit serve`")
    args = parser.parse_args()
    with open(args.sentences, encoding="utf-8") as f:
        sentences = [line.rstrip("\n") for line in f if line.strip()]
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "translit.cli", "serve", "-m", args.run_dir, "--port", str(port),
         "--max-delay-ms", args.max_delay_ms, "--max-batch-size", args.max_batch_size,
         *shlex.split(args.serve_args)],
        stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with urllib.request.urlopen(base + "/readyz", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        levels = [_level(base + "/v1/translate", sentences, int(n), args.seconds, args.n_best)
                  for n in args.levels.split(",")]
    finally:
        server.terminate()
        server.wait(timeout=120)
    one = levels[0]["requests_per_s"] or 1.0
    print(json.dumps({
        "benchmark": "serve_load", "machine": describe(), "run_dir": args.run_dir,
        "sentences_file": args.sentences, "seconds_per_level": args.seconds,
        "max_delay_ms": float(args.max_delay_ms), "max_batch_size": int(args.max_batch_size),
        "n_best": args.n_best, "serve_args": args.serve_args,
        "levels": levels,
        "speedup_over_one_client": {str(level["clients"]): round(level["requests_per_s"] / one, 2)
                                    for level in levels},
        "translate_file": _reference(args.run_dir, sentences),
    }, indent=1))


if __name__ == "__main__":
    main()
