"""translit against OpenNMT-tf 2.32 on Multi30k, side by side on one machine, as JSON.

Both train the same model (2 x 256 LSTM encoder and decoder, state vector, embeddings 256) on the
same SentencePiece pieces (the translit run's joint 8k model) with batches of about 64 sentences;
both translate test2016 with beam 5 in batches of 64, the process start included.

Usage (OpenNMT-tf lives in its own virtual environment, never a translit dependency):
  python -m venv /tmp/onmt && /tmp/onmt/bin/pip install OpenNMT-tf==2.32.0 "tensorflow==2.12.*"
  python benchmarks/opennmt/compare.py --run-dir RUN --onmt-venv /tmp/onmt --work /tmp/cmp \
      --steps 300 --onmt-steps 2000

RUN is a trained run of recipes/multi30k_de-en_sp8k.yaml: its tokenizer is shared with OpenNMT-tf
and its model translates for the translit side of the decoding comparison. translit's training
speed is measured over --steps steps (after as many warm-up steps); OpenNMT-tf trains
--onmt-steps steps (its speed is the mean of its reports after the first), long enough for its
beam search to produce sentences rather than degenerate output.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(REPO, "..", "shared", "corpora", "multi30k")
sys.path.insert(0, os.path.dirname(HERE))

from machine import describe  # noqa: E402

ONMT_RATE = re.compile(r"Step = (\d+) .*tokens/s = \d+ \((\d+) source, (\d+) target\)")


def run(command, **kwargs):
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return result, time.perf_counter() - start


def onmt_train(args):
    onmt = os.path.join(args.onmt_venv, "bin", "onmt-main")
    model = os.path.join(HERE, "model.py")
    config = os.path.join(args.work, "config.yml")
    result, seconds = run([onmt, "--model", model, "--config", config, "train"])
    rates = [tuple(map(int, m.groups())) for m in ONMT_RATE.finditer(result.stderr)]
    steady = [r for r in rates if r[0] > rates[0][0]]  # the first report includes tracing
    return {"steps": rates[-1][0], "wall_s": round(seconds, 1),
            "source_tokens_per_s": round(sum(r[1] for r in steady) / len(steady), 1),
            "target_tokens_per_s": round(sum(r[2] for r in steady) / len(steady), 1)}


def onmt_translate(args):
    onmt = os.path.join(args.onmt_venv, "bin", "onmt-main")
    output = os.path.join(args.work, "onmt_test.hyp.sp")
    _, seconds = run([onmt, "--model", os.path.join(HERE, "model.py"), "--config",
                      os.path.join(args.work, "config.yml"), "infer", "--features_file",
                      os.path.join(args.work, "test.src.sp"), "--predictions_file", output])
    with open(output, encoding="utf-8") as f:
        pieces = [line.split() for line in f]
    hypotheses = ["".join(p).replace("\u2581", " ").strip() for p in pieces]
    return seconds, hypotheses, sum(len(p) + 1 for p in pieces)


def translit_translate(args):
    output = os.path.join(args.work, "translit_test.hyp")
    _, seconds = run([sys.executable, "-m", "translit.cli", "translate",
                      os.path.join(CORPUS, "test.de"), "-m", args.run_dir, "--beam", "5",
                      "--batch-size", "64", "-o", output])
    with open(output, encoding="utf-8") as f:
        return seconds, [line.rstrip("\n") for line in f]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", required=True)
    parser.add_argument("--onmt-venv", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--onmt-steps", type=int, default=2000)
    parser.add_argument("--batch-tokens", type=int, default=1280,
                        help="translit budget giving about 64 sentences per batch")
    args = parser.parse_args()

    from translit.decoding.scoring import score

    run([sys.executable, os.path.join(HERE, "prepare.py"), args.run_dir, CORPUS, args.work,
         str(args.onmt_steps)])
    with open(os.path.join(CORPUS, "test.en"), encoding="utf-8") as f:
        references = [line.rstrip("\n") for line in f]
    result = {"machine": describe(), "steps": args.steps}
    bench, _ = run([sys.executable, os.path.join(REPO, "benchmarks", "throughput.py"),
                    os.path.join(REPO, "recipes", "multi30k_de-en_sp8k.yaml"), "--steps",
                    str(args.steps), "--sentences", "64",
                    "--set", f"train.batch_tokens={args.batch_tokens}"], cwd=REPO)
    result["translit_train"] = json.loads(bench.stdout)["train"]
    result["opennmt_train"] = onmt_train(args)
    seconds, hypotheses, tokens = onmt_translate(args)
    result["opennmt_beam5"] = {"seconds_with_start": round(seconds, 1),
                               "bleu": score(hypotheses, references, ["bleu"])["bleu"]["score"],
                               "target_tokens": tokens}
    seconds, hypotheses = translit_translate(args)
    result["translit_beam5"] = {"seconds_with_start": round(seconds, 1),
                                "bleu": score(hypotheses, references, ["bleu"])["bleu"]["score"]}
    train_ratio = (result["translit_train"]["target_tokens_per_s"]
                   / result["opennmt_train"]["target_tokens_per_s"])
    result["ratios"] = {
        "train_target_tokens_per_s": round(train_ratio, 2),
        "beam5_wall_time": round(result["opennmt_beam5"]["seconds_with_start"]
                                 / result["translit_beam5"]["seconds_with_start"], 2)}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
