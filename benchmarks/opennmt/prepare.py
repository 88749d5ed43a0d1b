"""Writes Multi30k as SentencePiece pieces for OpenNMT-tf, with the pieces of a translit run.

Usage: python benchmarks/opennmt/prepare.py RUN_DIR CORPUS_DIR WORK_DIR STEPS
Writes WORK_DIR/{train,valid,test}.{de,en}.sp, WORK_DIR/vocab.txt and WORK_DIR/config.yml, the
OpenNMT-tf settings that match the translit recipe (batch of 64 sentences, Adam 0.001, clipping 5,
label smoothing 0.1, beam 5).
"""

import os
import sys
import unicodedata

import sentencepiece as spm
import yaml

SPECIALS = 4  # <pad> <unk> <s> </s>: OpenNMT-tf adds its own


def main(run_dir, corpus, work, steps):
    os.makedirs(work, exist_ok=True)
    processor = spm.SentencePieceProcessor(model_file=os.path.join(run_dir, "tokenizer",
                                                                   "joint.model"))
    for split in ("train", "valid", "test"):
        for lang in ("de", "en"):
            with open(os.path.join(corpus, f"{split}.{lang}"), encoding="utf-8") as f:
                lines = [unicodedata.normalize("NFKC", line.strip()) for line in f]
            with open(os.path.join(work, f"{split}.{lang}.sp"), "w", encoding="utf-8") as f:
                f.writelines(" ".join(processor.encode(line, out_type=str)) + "\n"
                             for line in lines)
    with open(os.path.join(work, "vocab.txt"), "w", encoding="utf-8") as f:
        f.writelines(processor.id_to_piece(i) + "\n"
                     for i in range(SPECIALS, processor.get_piece_size()))
    config = {
        "model_dir": os.path.join(work, "onmt_model"),
        "data": {"train_features_file": os.path.join(work, "train.de.sp"),
                 "train_labels_file": os.path.join(work, "train.en.sp"),
                 "source_vocabulary": os.path.join(work, "vocab.txt"),
                 "target_vocabulary": os.path.join(work, "vocab.txt")},
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
