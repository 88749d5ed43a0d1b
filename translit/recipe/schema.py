"""The recipe's schema: its sections and keys as dataclasses, each key with its default, its
documentation (the table in docs/recipes.md is generated from it) and the range of its value."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import List, Literal, Optional


def _key(doc: str, default=dataclasses.MISSING, *, factory=dataclasses.MISSING, low=None,
         high=None, low_open: bool = False, shown: Optional[str] = None):
    """A recipe key: its default, its documentation (the docs' recipe table is generated from
    it, see :func:`keys_table`) and the range a number must lie in.

    Args:
      shown: the default as the table shows it, when the value itself does not say it.
    """
    bounds = None if low is None and high is None else {"low": low, "high": high,
                                                        "low_open": low_open}
    return field(default=default, default_factory=factory,
                 metadata={"doc": doc, "bounds": bounds, "shown": shown})


@dataclass
class Split:
    """One corpus split: a source and a target file (plain or .gz), or one TSV file."""

    src: Optional[str] = None
    tgt: Optional[str] = None
    tsv: Optional[str] = None
    text: Optional[str] = None  # language models: each line is read as its own source and target


_SPLIT = ("`{src: FILE, tgt: FILE}` (plain or `.gz`) or `{tsv: FILE}` of `source<TAB>target` "
          "lines; a glob pattern (`train.*.de`) names several files; for a language model "
          "(`model.kind: lm`), `{text: FILE}`")


@dataclass
class DataConfig:
    corpus: Optional[str] = _key(
        "a named corpus (see `translit corpus`) whose splits fill `train`/`valid`/`test` when "
        "they are not given", None)
    corpus_dir: Optional[str] = _key(
        "where `translit corpus fetch` put the named corpus", None,
        shown="`~/.cache/translit/corpora` (`$TRANSLIT_CORPORA`)")
    train: Split = _key(f"the training corpus: {_SPLIT}", factory=Split, shown="—")
    valid: Split = _key("the dev set, scored during training (same forms)", factory=Split,
                        shown="—")
    test: Optional[Split] = _key("the test set, scored at the end of training (same forms)",
                                 None, shown="— (optional)")
    max_src_tokens: int = _key(
        "training pairs with more source tokens are left out of the stream; at translation time "
        "sources are cut at 4× this", 100, low=1)
    max_tgt_tokens: int = _key("training pairs with more target tokens are left out", 100, low=1)

    @property
    def max_translate_tokens(self) -> int:
        """Sources are cut to this many pieces at translation time (4x the training limit)."""
        return 4 * self.max_src_tokens


@dataclass
class TokenizerConfig:
    type: Literal["sentencepiece", "char", "word"] = _key(
        "`sentencepiece`, `char` (one token per character, for transliteration) or `word` "
        "(one token per word of letters and marks, the `vocab_size` most frequent; digits and "
        "punctuation are left out: for word-level language models)", "sentencepiece")
    normalization: Literal["NFKC", "NFC", "NFKD", "NFD", "NFKC_Casefold", "none"] = _key(
        "Unicode normalization applied in-graph before tokenizing, in training and "
        "translation: `NFKC`, `NFC`, `NFKD`, `NFD`, `NFKC_Casefold` (NFKC and case folding, on "
        "both sides: `Acht`, `ACHT` and `acht` read alike), `none`", "NFKC")
    model_type: Literal["unigram", "bpe"] = _key("SentencePiece `unigram` or `bpe`", "unigram")
    vocab_size: int = _key(
        "vocabulary size (an upper bound for small corpora; for `char`, the most frequent "
        "characters kept)", 8000, low=8)
    joint: bool = _key("one vocabulary for both sides, or one per side", True)
    side_vocabularies: bool = _key(
        "with `joint` SentencePiece: one model for both sides, but each side's vocabulary holds "
        "only the pieces its training sentences use (as OpenNMT-tf's per-side vocabularies): "
        "smaller embeddings and output layer, faster steps; a piece those sentences never used "
        "on that side reads as `<unk>`", False)
    character_coverage: float = _key("SentencePiece character coverage", 1.0, low=0.0,
                                     high=1.0, low_open=True)
    max_training_sentences: int = _key(
        "sentences sampled (uniformly, while streaming the corpus) to train the tokenizer; "
        "SentencePiece's memory grows with them (about 1.4 GB for 1,000,000 Multi30k "
        "sentences); a changed value does not stop a resume", 500_000, low=1)


@dataclass
class ModelConfig:
    kind: Literal["seq2seq", "lm"] = _key(
        "`seq2seq` (encoder and decoder) or `lm`: a language model of the target side, the "
        "decoder without an encoder (its first state is zeros), trained on `{text: FILE}` "
        "splits and used by a word model's `decode.lm`", "seq2seq")
    embedding_dim: int = _key("embedding size (source and target)", 256, low=1)
    units: int = _key("units per recurrent layer (per direction in a bidirectional encoder)",
                      256, low=1)
    layers: int = _key("stacked recurrent layers in the encoder and in the decoder", 2, low=1)
    dropout: float = _key(
        "dropout on each recurrent layer's outputs, and on the embeddings unless "
        "`embedding_dropout` says otherwise (not recurrent, to keep the cuDNN kernel)",
        0.2, low=0.0, high=0.99)
    embedding_dropout: Optional[float] = _key(
        "dropout on the source and target embeddings; absent: `dropout` (OpenNMT-tf's "
        "recurrent models: 0)", None, low=0.0, high=0.99)
    output_dropout: float = _key(
        "dropout on the decoder's outputs (the attentional vectors with attention) before the "
        "output projection (OpenNMT-tf's recurrent decoders: `dropout`)", 0.0, low=0.0,
        high=0.99)
    cell: Literal["lstm", "gru", "cifg"] = _key(
        "`lstm`, `gru` or `cifg` (LSTM with coupled input and forget gates: one gate f, "
        "input 1 − f)", "lstm")
    attention: Literal["none", "dot", "general", "bahdanau"] = _key(
        "`none` (the state vector alone), `dot` or `general` (Luong et al. 2015), `bahdanau` "
        "(additive score)", "none")
    attention_activation: Literal["tanh", "none"] = _key(
        "activation of the attentional vector W_c [c_t; h_t] that feeds the output projection: "
        "`tanh` (Luong et al. 2015) or `none` (linear, as OpenNMT-tf's "
        "`attention_layer_activation=None`)", "tanh")
    input_feeding: bool = _key(
        "feed the previous attentional vector with each decoder input (Luong); the decoder "
        "then runs step by step in training too", False)
    bidirectional: bool = _key(
        "each encoder layer reads both ways; a bridge (dense + tanh) maps the final states to "
        "the decoder's size", False)
    residual: bool = _key(
        "residual connections between stacked layers (from the second layer on)", False)
    reverse_source: bool = _key(
        "the encoder reads the source backwards (Sutskever et al. 2014)", False)
    tie_embeddings: bool = _key(
        "the output projection reuses the target embedding matrix (with a projection to the "
        "embedding size when `units` differs)", False)


@dataclass
class TrainConfig:
    batch_tokens: int = _key(
        "tokens per training step (over all replicas), counting the longer side of each pair "
        "with padding (see `bucket_width`)", 4096, low=1)
    bucket_width: int = _key(
        "pairs are batched with others whose longer side falls in the same bucket of this many "
        "lengths, padded to the longest of the batch; 1: one length per batch, never padded. "
        "Every pass over the corpus flushes the buckets, so every pair is trained once a pass; "
        "wider buckets mix lengths in a batch, which rare lengths (a corpus's few short pairs) "
        "need to be learned", 1, low=1)
    max_steps: Optional[int] = _key(
        "stop after this many steps (or at `max_epochs`, whichever comes first; at least one "
        "is required)", None, low=1)
    max_epochs: Optional[int] = _key("stop after this many passes over the training corpus",
                                     None, low=1)
    learning_rate: float = _key("Adam learning rate (the peak, after warm-up)", 1e-3, low=0.0,
                                low_open=True)
    lr_schedule: Literal["constant", "inverse_sqrt", "exponential"] = _key(
        "`constant`, `inverse_sqrt` (× √(warmup / step) after warm-up) or `exponential` "
        "(× decay_rate^((step − warmup) / decay_steps))", "constant")
    warmup_steps: int = _key("linear warm-up steps", 0, low=0)
    decay_rate: float = _key("factor of the exponential decay", 0.5, low=0.0, high=1.0,
                             low_open=True)
    decay_steps: int = _key("steps over which the exponential decay multiplies by `decay_rate`",
                            10_000, low=1)
    plateau_factor: float = _key(
        "multiply the learning rate by this after `plateau_patience` evaluations without a "
        "better dev metric (1.0 = off)", 1.0, low=0.0, high=1.0, low_open=True)
    plateau_patience: int = _key("evaluations without a better dev metric before the plateau "
                                 "factor applies", 2, low=1)
    valid_metric: Literal["bleu", "chrf", "accuracy", "loss"] = _key(
        "dev metric for the best checkpoint, plateau and early stopping: `bleu`, `chrf`, "
        "`accuracy` (exact match; also logs CER) or `loss`", "bleu")
    early_stopping: Optional[int] = _key(
        "stop after this many evaluations without a better dev metric (off when absent)", None,
        low=1)
    clip_norm: float = _key("clip gradients to this global norm", 5.0, low=0.0, low_open=True)
    label_smoothing: float = _key("label smoothing of the cross-entropy", 0.1, low=0.0,
                                  high=0.99)
    loss_normalization: Literal["tokens", "sentences"] = _key(
        "what the summed token losses of a step are divided by: its target `tokens`, or its "
        "`sentences` (each sentence's summed loss, averaged, as OpenNMT-tf does with batches "
        "of examples and OpenNMT-py's `normalization: sents`; longer batches weigh more, and "
        "gradients are a sentence's length times larger, which `clip_norm` sees)", "tokens")
    precision: Literal["float32", "mixed_float16", "mixed_bfloat16", "auto"] = _key(
        "`mixed_bfloat16` or `mixed_float16` (with dynamic loss scaling) compute in half "
        "precision and keep float32 weights; `translate` and `export` run in float32. `auto` "
        "picks per machine and logs why: `mixed_bfloat16` on a GPU of compute capability ≥ 8.0 "
        "or a CPU with bfloat16 instructions (`avx512_bf16`, `amx_bf16`), `mixed_float16` on a "
        "7.x GPU, else `float32`", "float32")
    xla: bool = _key(
        "compile the forward and backward pass with XLA; batches then come from 16 length "
        "buckets (or `bucket_width`'s, if wider), padded to the bucket's end, so that there are "
        "few shapes to compile", False)
    checkpoint_every: int = _key("checkpoint period in steps", 1000, low=1)
    keep_checkpoints: int = _key("how many checkpoints are kept (the newest)", 5, low=1)
    eval_every: int = _key("dev loss/BLEU/chrF period in steps", 1000, low=1)
    log_every: int = _key("progress and `metrics.jsonl` period in steps", 100, low=1)
    shuffle_buffer: int = _key("pairs shuffled together", 100_000, low=1)
    seed: int = _key("seed of the weights' initialization, the shuffling and the tokenizer's "
                     "sample", 1234)


@dataclass
class DecodeConfig:
    beam_size: int = _key(
        "beam size of `translate` (1 = greedy); dev evaluation during training is greedy", 5,
        low=1)
    length_penalty: float = _key("GNMT length penalty alpha (0 = plain log-probability)", 0.6,
                                 low=0.0)
    coverage_penalty: float = _key("GNMT coverage penalty beta (attention models only)", 0.0,
                                   low=0.0)
    max_length_ratio: float = _key(
        "an output stops after `max_length_ratio × source tokens + max_length_offset` tokens",
        2.0, low=0.0, low_open=True)
    max_length_offset: int = _key("see `max_length_ratio`", 10, low=0)
    batch_size: int = _key("sentences per translation batch", 64, low=1)
    unit: Literal["line", "word"] = _key(
        "`line`: a line is one source sequence. `word`, for a model trained on single words "
        "(transliteration of running text): each line is split into words, which the model "
        "transliterates (each distinct one once, case folded), and the rest (digits, "
        "punctuation, spacing, URLs, e-mail addresses, words in other scripts), kept as it is",
        "line")
    word_prior: Optional[str] = _key(
        "a native-script text file (plain or `.gz`) whose word frequencies rerank the beam: "
        "model log-probability + `word_prior_weight` × log P(word), add-0.1 smoothing (word "
        "models: the simplest language model of the target script); a path from the working "
        "directory; exports carry its counts", None)
    word_prior_weight: float = _key("see `word_prior`", 1.0, low=0.0)
    lm: Optional[str] = _key(
        "with `unit: word`, the run directory of a word-level language model of the target "
        "script (`model.kind: lm`, `tokenizer.type: word`): each line's words are chosen left "
        "to right among their beams by model log-probability (+ the word prior) + `lm_weight` "
        "× log P(word given the words before it), keeping the `lm_beam` best word sequences", None)
    lm_weight: float = _key("see `lm`", 0.5, low=0.0)
    lm_beam: int = _key(
        "see `lm`: word sequences kept per line (1: each word chosen given the words chosen "
        "before it)", 1, low=1)
    channel: Optional[str] = _key(
        "the run directory of a model of the reverse direction (target script -> source "
        "script, e.g. recipes/dakshina_hi_reverse.yaml): the beam is reranked by model "
        "log-probability (+ the word prior) + `channel_weight` × log P_reverse(source given "
        "hypothesis), the noisy channel; a frequent word typed in a casual spelling gets its "
        "share of the reverse model's romanizations", None)
    channel_weight: float = _key("see `channel`", 0.5, low=0.0)
    channel_top: int = _key(
        "see `channel`: the hypotheses it scores, the first of the beam as reranked by the "
        "model and the word prior, or as many as asked for (n-best, suggestions) if more; the "
        "others leave the list (the channel costs a forced decoding per hypothesis); 0: all",
        0, low=0)
    dictionary: Optional[str] = _key(
        "a `source<TAB>target` TSV file, or a glob pattern of several (a lexicon; "
        "`translit corpus backtranslate --n-best 10 --margin 4` of native-script text; "
        "`translit corpus romanize` of it): each source's listed targets that its beam lacks "
        "join it, scored by the model (forced decoding over the length penalty), before the "
        "reranking; a path from the working directory", None)
    full_stop: str = _key(
        "with `unit: word`, what a \".\" that ends a sentence becomes (`।` for Hindi; empty "
        "keeps it)", "")


@dataclass
class Stage:
    """Something a recipe needs built before its training (``needs``) or after it (``then``):
    a run of another recipe, or a ``translit`` command that creates a file."""

    train: Optional[str] = None  # a recipe file; its run goes to run_dir or runs/<its name>
    run_dir: Optional[str] = None
    command: Optional[str] = None  # the arguments of a translit command, e.g. "corpus romanize"
    creates: Optional[str] = None  # the file the command writes: present, the stage is done


_STAGES = ("`{train: RECIPE}` (optionally with `run_dir`; done when the run has its final "
           "record) or `{command: \"translit ARGUMENTS\", creates: FILE}` (done when FILE "
           "exists); paths from the working directory")


@dataclass
class Recipe:
    name: str = _key("run name; default run directory `runs/<name>`", "run",
                     shown="file name")
    needs: List[Stage] = _key(
        f"what the recipe reads that other stages build, in order: {_STAGES}; `translit train` "
        "builds the missing ones first (`--plan` lists them)", factory=list, shown="—")
    then: List[Stage] = _key(
        "stages that follow the recipe's own training (same forms), e.g. `translit average`",
        factory=list, shown="—")
    data: DataConfig = field(default_factory=DataConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    decode: DecodeConfig = field(default_factory=DecodeConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def keys_table() -> str:
    """The table of recipe keys in docs/recipes.md, generated from the keys' definitions above.

    Returns: Markdown, one row per key: ``| `section.key` | default | meaning |``.
    """
    hints = typing.get_type_hints(Recipe)
    rows = ["| key | default | meaning |", "| --- | --- | --- |"]
    for section in dataclasses.fields(Recipe):
        keys = [(section.name, section)]
        if dataclasses.is_dataclass(hints[section.name]):
            keys = [(f"{section.name}.{key.name}", key)
                    for key in dataclasses.fields(hints[section.name])]
        rows += [f"| `{key}` | {_shown_default(f)} | {f.metadata['doc']} |" for key, f in keys]
    return "\n".join(rows) + "\n"


def _shown_default(key: dataclasses.Field) -> str:
    if key.metadata.get("shown"):
        return key.metadata["shown"]
    value = key.default
    if value is None:
        return "—"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`" if isinstance(value, str) else str(value)
