"""The fastest training this machine allows for a recipe's model, from its arithmetic, as JSON.

Usage:
  python benchmarks/roofline.py recipes/multi30k_de-en_sp8k.yaml [--set k=v ...]
      [--rows 64] [--measured THROUGHPUT_JSON ...]

Counts the multiply-adds of one target token in training (forward and backward: 3 times the
forward's): the recurrent layers' gates (over the source too, scaled by the source/target token
ratio) and the output projection. Attention, embeddings, softmax and the optimizer are left out,
so the count is a lower bound on the work and the ceiling an upper bound on the speed. Most of
the products can be batched over all tokens of a batch (large matrices), but the recurrence
h_t U cannot: forward and backward it is one product of ``--rows`` rows (the sentences of a
batch) per time step. The ceiling takes this machine's measured rate for each kind (float32 and
bfloat16). ``--measured`` takes JSON printed by ``throughput.py`` and reports its fraction of the
ceiling.
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
    """Multiply-adds per target token of the forward pass: all of them (recurrent layers and
    output projection) and the recurrent products h_t U among them."""
    gates = GATES[model.cell]

    def stack(inputs, directions):
        macs, size = 0, inputs
        for _ in range(model.layers):
            macs += directions * gates * model.units * (size + model.units)
            size = directions * model.units
        return macs

    directions = 2 if model.bidirectional else 1
    encoder = stack(model.embedding_dim, directions)
    decoder = stack(model.embedding_dim, 1)
    recurrent = (source_per_target * directions + 1) * model.layers * gates * model.units ** 2
    return {"encoder_per_source_token": encoder, "decoder": decoder,
            "projection": model.units * vocab_size, "recurrent": round(recurrent),
            "total": round(source_per_target * encoder + decoder + model.units * vocab_size)}


def matmul_gflops(shapes, dtype, seconds=1.0):
    """Rate of each (m, k, n) product in GFLOP/s: a chain of products inside one
    ``tf.while_loop`` (as in a recurrence), so that no Python dispatch is timed."""
    import tensorflow as tf

    @tf.function
    def chain(x, w, count):
        def step(i, x):
            return i + 1, tf.matmul(x, w)[:, :x.shape[1]]  # (m, n) -> (m, k)
        return tf.while_loop(lambda i, x: i < count, step, (0, x))[1]

    rates = {}
    for m, k, n in shapes:
        x = tf.cast(tf.random.normal((m, k)), dtype)
        w = tf.cast(tf.random.normal((k, n), stddev=k ** -0.5), dtype)
        count = 10
        while True:
            start = time.perf_counter()
            chain(x, w, count).numpy()
            elapsed = time.perf_counter() - start
            if elapsed > seconds:
                break
            count *= 4
        rates[f"{m}x{k}x{n}"] = round(2 * m * k * n * count / elapsed / 1e9, 1)
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--vocab-size", type=int,
                        help="target vocabulary size (default: the recipe's SentencePiece size)")
    parser.add_argument("--rows", type=int, default=64,
                        help="sentences per batch: the rows of each recurrent product")
    parser.add_argument("--measured", action="append", default=[],
                        help="JSON output of throughput.py for the same recipe")
    args = parser.parse_args()

    import tensorflow as tf

    from translit.recipe import load_recipe

    recipe = load_recipe(args.recipe, args.overrides)
    if recipe.tokenizer.type == "char" and not args.vocab_size:
        parser.error("a character-level recipe needs --vocab-size (the run's target alphabet)")
    vocab_size = args.vocab_size or recipe.tokenizer.vocab_size
    measured = []
    for path in args.measured:
        with open(path, encoding="utf-8") as f:
            result = json.load(f)
        measured.append({"file": path, "overrides": result["overrides"], **result["train"]})
    ratio = (measured[0]["source_tokens_per_s"] / measured[0]["target_tokens_per_s"]
             if measured else 1.0)
    macs = forward_macs(recipe.model, vocab_size, ratio)
    # 2 FLOPs per multiply-add; backward twice the forward, of which h_t U's input gradient
    # is sequential too (the gradient of U itself is one large product over all steps).
    sequential = 2 * 2 * macs["recurrent"]
    batched = 2 * 3 * macs["total"] - sequential
    units, gates = recipe.model.units, GATES[recipe.model.cell]
    large = [(1024, units, vocab_size), (1024, 2 * units, gates * units)]
    small = (args.rows, units, gates * units)
    ceilings = {}
    for name, dtype in (("float32", tf.float32), ("bfloat16", tf.bfloat16)):
        rates = matmul_gflops(large + [small], dtype)
        large_rate = max(rates[f"{m}x{k}x{n}"] for m, k, n in large)
        small_rate = rates["{}x{}x{}".format(*small)]
        seconds = sequential / (small_rate * 1e9) + batched / (large_rate * 1e9)
        ceilings[name] = {"matmul_gflops": rates,
                          "ceiling_target_tokens_per_s": round(1 / seconds)}
    for run in measured:
        precision = "bfloat16" if "precision=mixed_bfloat16" in " ".join(run["overrides"]) \
            else "float32"
        ceiling = ceilings[precision]["ceiling_target_tokens_per_s"]
        run["fraction_of_ceiling"] = round(run["target_tokens_per_s"] / ceiling, 2)
    print(json.dumps({"recipe": args.recipe, "overrides": args.overrides,
                      "source_per_target_token": round(ratio, 3), "forward_macs": macs,
                      "train_flops_per_target_token": {"sequential": sequential,
                                                       "batched": batched},
                      "ceilings": ceilings,
                      "measured": measured, "machine": describe()}, indent=1))


if __name__ == "__main__":
    main()
