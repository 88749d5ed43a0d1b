"""Size and latency of an exported SavedModel: load, first call, one sentence, a batch of 64.

Usage: python benchmarks/export_latency.py EXPORT_DIR SOURCES.txt [--repeats 20]
Prints one JSON object. Loads the export as a user would (TensorFlow + tensorflow-text only).
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from machine import describe  # noqa: E402


def directory_size(path: str) -> int:
    return sum(os.path.getsize(os.path.join(root, name))
               for root, _, names in os.walk(path) for name in names)


def median_seconds(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export_dir")
    parser.add_argument("sources")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    start = time.perf_counter()
    import tensorflow as tf
    import tensorflow_text  # noqa: F401

    translate = tf.saved_model.load(args.export_dir).signatures["serving_default"]
    loaded = time.perf_counter()
    with open(args.sources, encoding="utf-8") as f:
        sentences = [line.rstrip("\n") for line in f if line.strip()][:64]
    one, batch = tf.constant(sentences[:1]), tf.constant(sentences)
    translate(texts=one)
    first = time.perf_counter()
    result = {
        "export_dir": args.export_dir,
        "export_bytes": directory_size(args.export_dir),
        "import_and_load_s": round(loaded - start, 3),
        "first_sentence_s": round(first - loaded, 3),
        "one_sentence_ms": round(1000 * median_seconds(lambda: translate(texts=one),
                                                       args.repeats), 2),
        "batch_64_ms": round(1000 * median_seconds(lambda: translate(texts=batch),
                                                   args.repeats), 2),
        "batch_size": len(sentences),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": describe(),
    }
    result["batch_64_sentences_per_s"] = round(len(sentences) / (result["batch_64_ms"] / 1000), 1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
