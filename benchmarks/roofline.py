"""The fastest training this machine allows for a recipe's model, from its arithmetic, as JSON.

Usage:
  python benchmarks/roofline.py recipes/multi30k_de-en_sp8k.yaml [--set k=v ...]
      [--measured THROUGHPUT_JSON ...]

Counts the multiply-adds of one target token in training (forward and backward: 3 times the
forward's): the recurrent layers' gates (over the source too, scaled by the source/target token
ratio) and the output projection. Attention, embeddings, softmax and the optimizer are left out,
so the count is a lower bound on the work and the ceiling an upper bound on the speed. The
ceiling is this machine's best measured matrix-product rate (float32 and bfloat16) divided by
the count. ``--measured`` takes JSON printed by ``throughput.py`` and reports its fraction of
the ceiling.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from machine import describe  # noqa: E402

GATES = {"lstm": 4, "cifg": 3, "gru": 3}


def forward_macs(model, vocab_size, source_per_target):
    """Multiply-adds of the recurrent layers and the output projection per target token."""
    def stack(inputs, directions):
        macs, size = 0, inputs
        for _ in range(model.layers):
            macs += directions * GATES[model.cell] * model.units * (size + model.units)
            size = directions * model.units
        return macs

    encoder = stack(model.embedding_dim, 2 if model.bidirectional else 1)
    decoder = stack(model.embedding_dim, 1)
    return {"encoder_per_source_token": encoder, "decoder": decoder,
            "projection": model.units * vocab_size,
            "total": round(source_per_target * encoder + decoder + model.units * vocab_size)}


def matmul_gflops(shapes, dtype, seconds=2.0):
    """Best rate over ``shapes`` ((m, k, n) products) in GFLOP/s, each timed for ``seconds``."""
    import tensorflow as tf

    best = {}
    for m, k, n in shapes:
        a = tf.cast(tf.random.normal((m, k)), dtype)
        b = tf.cast(tf.random.normal((k, n)), dtype)
        product = tf.function(tf.matmul)
        product(a, b).numpy()
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            result = product(a, b)
            calls += 1
        result.numpy()
        best[f"{m}x{k}x{n}"] = round(2 * m * k * n * calls / (time.perf_counter() - start) / 1e9, 1)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--vocab-size", type=int,
                        help="target vocabulary size (default: the recipe's SentencePiece size)")
    parser.add_argument("--measured", action="append", default=[],
                        help="JSON output of throughput.py for the same recipe")
    args = parser.parse_args()

    import tensorflow as tf

    from translit.recipe import load_recipe

    recipe = load_recipe(args.recipe, args.overrides)
    vocab_size = args.vocab_size or recipe.tokenizer.vocab_size
    measured = []
    for path in args.measured:
        with open(path, encoding="utf-8") as f:
            result = json.load(f)
        measured.append({"file": path, "overrides": result["overrides"], **result["train"]})
    ratio = (measured[0]["source_tokens_per_s"] / measured[0]["target_tokens_per_s"]
             if measured else 1.0)
    macs = forward_macs(recipe.model, vocab_size, ratio)
    train_flops = 3 * 2 * macs["total"]  # forward + backward, 2 FLOPs per multiply-add
    units = recipe.model.units
    shapes = [(1024, units, vocab_size), (1024, 2 * units, 4 * units), (64, 2 * units, 4 * units)]
    ceilings = {}
    for name, dtype in (("float32", tf.float32), ("bfloat16", tf.bfloat16)):
        rates = matmul_gflops(shapes, dtype)
        peak = max(rates.values())
        ceilings[name] = {"matmul_gflops": rates,
                          "ceiling_target_tokens_per_s": round(peak * 1e9 / train_flops)}
    for run in measured:
        precision = "bfloat16" if "precision=mixed_bfloat16" in " ".join(run["overrides"]) \
            else "float32"
        ceiling = ceilings[precision]["ceiling_target_tokens_per_s"]
        run["fraction_of_ceiling"] = round(run["target_tokens_per_s"] / ceiling, 2)
    print(json.dumps({"recipe": args.recipe, "overrides": args.overrides,
                      "source_per_target_token": round(ratio, 3), "forward_macs": macs,
                      "train_flops_per_target_token": train_flops, "ceilings": ceilings,
                      "measured": measured, "machine": describe()}, indent=1))


if __name__ == "__main__":
    main()
