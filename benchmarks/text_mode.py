"""Running text through a word model (`--unit word`): WER, CER and words per second.

Usage: python benchmarks/text_mode.py --run RUN --source SENTENCES.latn --ref SENTENCES.deva
           [--beam N] [--word-prior TEXT] [--word-prior-weight W] [--lm RUN] [--lm-weight W]
           [--lm-beam N] [--channel RUN] [--channel-weight W] [--dictionary TSV]
           [--checkpoint average] [--repeats 2]

Prints one JSON object: the scores of the transliterated sentences against the reference (WER
on whitespace words, CER as `translit score` computes them, exact sentences), and the speed of
`translit.load(RUN, unit="word").translate` over all sentences in one call (words per second of
input, the best of the repeats; the model loaded and traced before the clock starts). Run it
pinned to one core (`taskset -c 0`) for a per-core figure.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from machine import describe  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--ref", required=True)
    parser.add_argument("--beam", type=int)
    parser.add_argument("--word-prior", help="default: the recipe's decode.word_prior")
    parser.add_argument("--word-prior-weight", type=float)
    parser.add_argument("--lm", help="default: the recipe's decode.lm")
    parser.add_argument("--lm-weight", type=float)
    parser.add_argument("--lm-beam", type=int, help="default: the recipe's decode.lm_beam")
    parser.add_argument("--channel", help="default: the recipe's decode.channel")
    parser.add_argument("--channel-weight", type=float)
    parser.add_argument("--channel-top", type=int, help="default: the recipe's decode.channel_top")
    parser.add_argument("--dictionary", help="default: the recipe's decode.dictionary")
    parser.add_argument("--checkpoint", help="best, latest, average or a path (default: best)")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    import translit
    from translit.decoding.scoring import score

    with open(args.source, encoding="utf-8") as f:
        sources = f.read().splitlines()
    with open(args.ref, encoding="utf-8") as f:
        references = f.read().splitlines()
    model = translit.load(args.run, beam=args.beam, checkpoint=args.checkpoint, unit="word",
                          word_prior=args.word_prior, word_prior_weight=args.word_prior_weight,
                          lm=args.lm, lm_weight=args.lm_weight, lm_beam=args.lm_beam,
                          channel=args.channel, channel_weight=args.channel_weight,
                          channel_top=args.channel_top, dictionary=args.dictionary)
    model.translate(sources[:10])  # traces the graph
    seconds = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        hypotheses = model.translate(sources)
        seconds.append(time.perf_counter() - start)
    words = sum(len(line.split()) for line in sources)
    scores = {name: value["score"] for name, value in
              score(hypotheses, references, ["wer", "cer", "accuracy"]).items()}
    print(json.dumps({"machine": describe(), "run": args.run, "checkpoint": args.checkpoint,
                      "beam": model.beam_size, "word_prior": args.word_prior,
                      "word_prior_weight": args.word_prior_weight,
                      "lm": args.lm, "lm_weight": args.lm_weight,
                      "lm_beam": (model.describe()["lm"] or {}).get("beam"),
                      "channel": model.describe()["channel"],
                      "dictionary": model.describe()["dictionary"],
                      "sentences": len(sources), "words": words, "scores": scores,
                      "seconds": min(seconds), "words_per_second": words / min(seconds)},
                     indent=1))


if __name__ == "__main__":
    main()
