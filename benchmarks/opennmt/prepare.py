"""Writes Multi30k as SentencePiece pieces for OpenNMT-tf, with the pieces of a translit run.

Usage: python benchmarks/opennmt/prepare.py RUN_DIR CORPUS_DIR WORK_DIR STEPS
Writes WORK_DIR/{train,valid,test}.{src,tgt}.sp, WORK_DIR/vocab.txt and WORK_DIR/config.yml, the
OpenNMT-tf settings that match the translit recipe (batch of 64 sentences, Adam 0.001, clipping 5,
label smoothing 0.1, beam 5).
"""

import os
import sys
import unicodedata
from types import SimpleNamespace

import sentencepiece as spm
import yaml

SPECIALS = 4  # <pad> <unk> <s> </s>: OpenNMT-tf adds its own


def write_pieces(model_file, splits, work):
    """Writes each split's sides as pieces (NFKC, as translit normalizes) and the vocabulary.

    Args:
      model_file: a translit run's joint SentencePiece model.
      splits: {name: an object with ``src`` and ``tgt`` paths}.
    Returns:
      {name: (source pieces path, target pieces path), "vocab": vocabulary path}.
    """
    os.makedirs(work, exist_ok=True)
    processor = spm.SentencePieceProcessor(model_file=model_file)
    files = {}
    for name, split in splits.items():
        files[name] = tuple(os.path.join(work, f"{name}.{side}.sp") for side in ("src", "tgt"))
        for path, output in zip((split.src, split.tgt), files[name]):
            with open(path, encoding="utf-8") as f:
                lines = [unicodedata.normalize("NFKC", line.strip()) for line in f]
            with open(output, "w", encoding="utf-8") as f:
                f.writelines(" ".join(processor.encode(line, out_type=str)) + "\n"
                             for line in lines)
    files["vocab"] = os.path.join(work, "vocab.txt")
    with open(files["vocab"], "w", encoding="utf-8") as f:
        f.writelines(processor.id_to_piece(i) + "\n"
                     for i in range(SPECIALS, processor.get_piece_size()))
    return files


def main(run_dir, corpus, work, steps):
    splits = {name: SimpleNamespace(src=os.path.join(corpus, f"{name}.de"),
                                    tgt=os.path.join(corpus, f"{name}.en"))
              for name in ("train", "valid", "test")}
    files = write_pieces(os.path.join(run_dir, "tokenizer", "joint.model"), splits, work)
    config = {
        "model_dir": os.path.join(work, "onmt_model"),
        "data": {"train_features_file": files["train"][0],
                 "train_labels_file": files["train"][1],
                 "source_vocabulary": files["vocab"], "target_vocabulary": files["vocab"]},
        "params": {"optimizer": "Adam", "learning_rate": 0.001, "clip_gradients": 5.0,
                   "label_smoothing": 0.1, "beam_width": 5, "maximum_decoding_length": 100},
        "train": {"batch_size": 64, "batch_type": "examples", "max_step": int(steps),
                  "save_checkpoints_steps": int(steps), "save_summary_steps": 50,
                  "length_bucket_width": 1, "maximum_features_length": 80,
                  "maximum_labels_length": 80, "sample_buffer_size": 100000},
        "infer": {"batch_size": 64, "batch_type": "examples", "length_bucket_width": 1},
    }
    with open(os.path.join(work, "config.yml"), "w", encoding="utf-8") as f:
        yaml.safe_dump(config, f)


if __name__ == "__main__":
    main(*sys.argv[1:5])
