import pytest
import tensorflow as tf

from translit.data.special_tokens import BOS_ID, EOS_ID, UNK_ID
from translit.data.tokenizers import load_tokenizers, source_ids, target_ids, train_tokenizers
from translit.recipe import TokenizerConfig

SOURCES = ["einundzwanzig Katzen", "dreihundert Hunde", "Grüße aus Köln", "zweiundvierzig"] * 40
TARGETS = ["twenty one cats", "three hundred dogs", "greetings from cologne", "forty two"] * 40


def _round_trip(tokenizer, texts):
    ids = tokenizer.tokenize(tf.constant(texts))
    return [t.decode("utf-8") for t in tokenizer.detokenize(ids).numpy()], ids


def test_sentencepiece_round_trip_and_reload(tmp_path):
    for model_type in ("unigram", "bpe"):
        config = TokenizerConfig(type="sentencepiece", model_type=model_type, vocab_size=60,
                                 joint=False)
        source, target = train_tokenizers(config, SOURCES, TARGETS, str(tmp_path / model_type))
        texts = ["einundzwanzig Hunde", "Köln"]
        decoded, ids = _round_trip(source, texts)
        assert decoded == texts
        assert int(tf.reduce_min(ids.flat_values)) > EOS_ID  # specials are never pieces
        reloaded, _ = load_tokenizers(config, str(tmp_path / model_type))
        assert reloaded.tokenize(tf.constant(texts)).to_list() == ids.to_list()
        assert _round_trip(target, ["forty one cats"])[0] == ["forty one cats"]


def test_side_vocabularies_keep_the_pieces_each_side_uses(tmp_path):
    config = TokenizerConfig(type="sentencepiece", vocab_size=80, side_vocabularies=True)
    source, target = train_tokenizers(config, SOURCES, TARGETS, str(tmp_path))
    joint = source.joint
    assert source.vocab_size < joint.vocab_size and target.vocab_size < joint.vocab_size
    assert source.vocab_size + target.vocab_size < joint.vocab_size + 30  # few shared pieces
    for tokenizer, text in ((source, "dreihundert Katzen"), (target, "forty one dogs")):
        decoded, ids = _round_trip(tokenizer, [text])
        assert decoded == [text]
        assert 0 < int(tf.reduce_min(ids.flat_values)) and \
            int(tf.reduce_max(ids.flat_values)) < tokenizer.vocab_size  # dense ids
        reloaded = load_tokenizers(config, str(tmp_path))[tokenizer is target]
        assert reloaded.tokenize(tf.constant([text])).to_list() == ids.to_list()
    english_only = target.tokenize(tf.constant(["greetings"])).flat_values.numpy()
    assert UNK_ID in source.tokenize(tf.constant(["greetings"])).flat_values.numpy()
    assert UNK_ID not in english_only


def test_normalization_is_applied_in_graph():
    config = TokenizerConfig(type="char", normalization="NFC", vocab_size=100)
    tokenizer, _ = train_tokenizers(config, ["Köln"], ["x"], "/tmp/translit-test-nfc")
    decomposed = "Ko\u0308ln"  # o + combining diaeresis
    assert _round_trip(tokenizer, [decomposed])[0] == ["Köln"]


def test_char_round_trip_unknown_characters_and_reload(tmp_path):
    config = TokenizerConfig(type="char", vocab_size=100, joint=True)
    tokenizer, same = train_tokenizers(config, SOURCES, TARGETS, str(tmp_path))
    assert tokenizer is same
    assert _round_trip(tokenizer, ["drei Katzen", ""])[0] == ["drei Katzen", ""]
    assert _round_trip(tokenizer, ["Q"])[0] == ["\ufffd"]  # unseen -> <unk>
    reloaded, _ = load_tokenizers(config, str(tmp_path))
    assert reloaded.tokenize(tf.constant(["Köln"])).to_list() == \
        tokenizer.tokenize(tf.constant(["Köln"])).to_list()


def test_source_and_target_ids_add_specials():
    config = TokenizerConfig(type="char", vocab_size=100)
    tokenizer, _ = train_tokenizers(config, ["abc"], ["abc"], "/tmp/translit-test-specials")
    assert source_ids(tokenizer, tf.constant(["abc", ""]), max_tokens=2).to_list() == \
        [[4, 5, EOS_ID], [EOS_ID]]
    assert target_ids(tokenizer, tf.constant(["ab"])).to_list() == [[BOS_ID, 4, 5, EOS_ID]]


@pytest.mark.parametrize("kind", ["sentencepiece", "char"])
def test_case_folding_reads_every_case_alike(tmp_path, kind):
    config = TokenizerConfig(type=kind, normalization="NFKC_Casefold", vocab_size=60)
    tokenizer, _ = train_tokenizers(config, ["Acht Dreißig", "zwölf"], ["eight", "thirty"],
                                    str(tmp_path))
    ids = tokenizer.tokenize(tf.constant(["acht dreißig", "ACHT DREISSIG", "Acht Dreißig"]))
    assert ids.to_list()[0] == ids.to_list()[1] == ids.to_list()[2]
    assert UNK_ID not in ids.flat_values.numpy()  # the folded training text has every letter
