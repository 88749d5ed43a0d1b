"""GPU check of the Multi30k attention recipe, as JSON: does the LSTM take the cuDNN kernel,
training target tokens/s in float32, mixed_float16 and mixed_bfloat16, beam-5 sentences/s, and
dev BLEU after a fixed number of minutes of `translit train`.

Usage: bash benchmarks/gpu_check.sh  (or python benchmarks/gpu_check.py [--minutes 2] ...)

cuDNN is established two ways: the op Keras chose when tracing a forward and backward pass
(``CudnnRNNV3`` against the generic ``while`` loop), and the kernel names a TensorFlow profile
of three such passes recorded on the device. On a machine without a GPU every answer is
"no" and the speeds are the CPU's.
"""

import argparse
import dataclasses
import glob
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from machine import describe  # noqa: E402

RECIPE = os.path.join(REPO, "recipes", "multi30k_de-en_attention.yaml")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def cudnn_check(recipe_path: str) -> dict:
    """Traces and profiles the recipe's model on right-padded random batches (64 x 20)."""
    import tensorflow as tf

    from translit.models import build_model
    from translit.recipe import load_recipe

    model = build_model(8000, 8000, **dataclasses.asdict(load_recipe(recipe_path).model))
    lengths = tf.random.uniform([64], 5, 21, tf.int32)
    mask = tf.sequence_mask(lengths, 20, tf.int32)  # right-padded, as training batches are
    source = tf.random.uniform([64, 20], 4, 8000, tf.int32) * mask
    target = tf.random.uniform([64, 20], 4, 8000, tf.int32) * mask

    @tf.function
    def forward_backward(source, target):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(model((source, target), training=True))
        return tape.gradient(loss, model.trainable_variables)

    graph = forward_backward.get_concrete_function(source, target).graph.as_graph_def()
    ops = {node.op for node in graph.node}
    ops |= {node.op for function in graph.library.function for node in function.node_def}
    forward_backward(source, target)  # warm-up
    logdir = tempfile.mkdtemp()
    tf.profiler.experimental.start(logdir)
    for _ in range(3):
        forward_backward(source, target)
    tf.profiler.experimental.stop()
    names = set()
    for path in glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True):
        with open(path, "rb") as f:
            names |= {m.decode("ascii", "replace")
                      for m in re.findall(rb"[\w:<>,]*(?:cudnn|Cudnn|RNN)[\w:<>,]*", f.read())}
    kernels = sorted(name for name in names if len(name) < 160)[:20]
    return {"op_in_graph": "CudnnRNNV3" if "CudnnRNNV3" in ops else "while loop (no cuDNN)",
            "cudnn_in_profile": any("cudnn" in name.lower() for name in kernels),
            "profile_kernel_names": kernels, "uses_cudnn": "CudnnRNNV3" in ops}


def throughput(recipe_path: str, precision: str, steps: int, sentences: int) -> dict:
    """benchmarks/throughput.py in a subprocess: training tokens/s, greedy and beam-5 speed."""
    result = subprocess.run(
        [sys.executable, os.path.join(HERE, "throughput.py"), recipe_path, "--steps", str(steps),
         "--sentences", str(sentences), "--set", f"train.precision={precision}"],
        capture_output=True, text=True, cwd=REPO)
    if result.returncode:
        return {"precision": precision, "error": result.stderr.strip().splitlines()[-1:]}
    measured = json.loads(result.stdout)
    beam5 = next(t for t in measured["translate"] if t["beam"] == 5)
    return {"precision": precision,
            "train_target_tokens_per_s": measured["train"]["target_tokens_per_s"],
            "beam5_sentences_per_s": beam5["sentences_per_s"], "beam5_bleu": beam5["bleu"]}


def bleu_after(recipe_path: str, minutes: float, work: str) -> dict:
    """`translit train` stopped by SIGTERM after ``minutes`` (it saves a checkpoint), then the
    dev set translated with beam 5 and scored."""
    from translit.decoding.scoring import score
    from translit.recipe import load_recipe

    run_dir = os.path.join(work, "run")
    command = [sys.executable, "-m", "translit.cli"]
    process = subprocess.Popen([*command, "train", recipe_path, "--run-dir", run_dir, "--set",
                                "train.checkpoint_every=1000000", "--set",
                                "train.eval_every=1000000"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    time.sleep(minutes * 60)
    process.send_signal(signal.SIGTERM)  # finishes the step, saves, exits
    process.wait()
    valid = load_recipe(recipe_path).data.valid
    output = os.path.join(work, "dev.hyp")
    subprocess.run([*command, "translate", valid.src, "-m", run_dir, "--checkpoint", "latest",
                    "--beam", "5", "-o", output], check=True, capture_output=True, cwd=REPO)
    with open(output, encoding="utf-8") as f:
        hypotheses = [line.rstrip("\n") for line in f]
    with open(valid.tgt, encoding="utf-8") as f:
        references = [line.rstrip("\n") for line in f]
    step = max(int(re.search(r"ckpt-(\d+)\.index$", path).group(1))
               for path in glob.glob(os.path.join(run_dir, "checkpoints", "ckpt-*.index")))
    return {"minutes": minutes, "steps": step,
            "dev_bleu_beam5": round(score(hypotheses, references, ["bleu"])["bleu"]["score"],
                                    2)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default=RECIPE)
    parser.add_argument("--steps", type=int, default=100, help="measured training steps")
    parser.add_argument("--sentences", type=int, default=500, help="test sentences translated")
    parser.add_argument("--minutes", type=float, default=2, help="training before the dev BLEU")
    args = parser.parse_args()
    result = {"machine": describe(), "recipe": os.path.relpath(args.recipe, REPO)}
    result["cudnn"] = cudnn_check(args.recipe)
    print(json.dumps(result["cudnn"]), file=sys.stderr, flush=True)
    result["speed"] = []
    for precision in PRECISIONS:
        result["speed"].append(throughput(args.recipe, precision, args.steps, args.sentences))
        print(json.dumps(result["speed"][-1]), file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory() as work:
        result["quality"] = bleu_after(args.recipe, args.minutes, work)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
