"""Training and translation throughput of a recipe, as JSON.

Usage:
  python benchmarks/throughput.py recipes/multi30k_de-en_sp8k.yaml --steps 200 [--set k=v ...]

Trains ``--steps`` steps after as many warm-up steps (graph tracing, first batches) into a
temporary run directory and reports the steady-state source and target tokens/s and the padding
ratio; then translates the first ``--sentences`` test sentences with greedy search and beam 5
(batches of 64, one warm-up batch first) and reports sentences/s, target tokens/s and BLEU.
"""

import argparse
import json
import os
import resource
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from machine import describe  # noqa: E402


def train_throughput(recipe, run_dir, steps):
    from translit.training.trainer import Trainer

    trainer = Trainer(recipe, run_dir)
    start = time.perf_counter()
    trainer.train()
    with open(trainer.run.metrics_path, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if '"train"' in line]
    steady = records[-1]  # the second log window: steps after the warm-up
    return {"steps": steps, "wall_s_with_warmup": round(time.perf_counter() - start, 1),
            "source_tokens_per_s": steady["source_tokens_per_s"],
            "target_tokens_per_s": steady["target_tokens_per_s"],
            "target_padding": steady["target_padding"], "final_loss": steady["loss"]}


def translate_throughput(run_dir, sources, references, beam):
    import tensorflow as tf

    from translit.decoding.scoring import score
    from translit.decoding.translator import load_translator, translate_lines

    translator, _ = load_translator(run_dir, beam_size=beam)
    translator.translate(tf.constant(sources[:64]))  # trace
    start = time.perf_counter()
    outputs = translate_lines(translator.translate, sources, batch_size=64)
    elapsed = time.perf_counter() - start
    tokens = int(translator.target_tokenizer.tokenize(tf.constant(outputs)).flat_values.shape[0])
    return {"beam": beam, "sentences": len(sources), "seconds": round(elapsed, 2),
            "sentences_per_s": round(len(sources) / elapsed, 1),
            "target_tokens_per_s": round(tokens / elapsed, 1),
            "bleu": score(outputs, references, ["bleu"])["bleu"]["score"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()

    from translit.data.corpus import read_parallel
    from translit.recipe import load_recipe

    overrides = [f"train.max_steps={2 * args.steps}", f"train.log_every={args.steps}",
                 f"train.checkpoint_every={2 * args.steps}", "train.max_epochs=null",
                 f"train.eval_every={10 * args.steps}", *args.overrides]
    recipe = load_recipe(args.recipe, overrides)
    test = recipe.data.test or recipe.data.valid
    corpus = read_parallel(test.src, test.tgt, test.tsv)
    sources, references = corpus.sources[:args.sentences], corpus.targets[:args.sentences]
    recipe.data.test = None  # the benchmark translates the test set itself
    with tempfile.TemporaryDirectory() as run_dir:
        result = {"recipe": args.recipe, "overrides": args.overrides,
                  "train": train_throughput(recipe, run_dir, args.steps),
                  "translate": [translate_throughput(run_dir, sources, references, beam)
                                for beam in (1, 5)]}
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["machine"] = describe()
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
