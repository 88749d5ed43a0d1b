"""translit corpus backtranslate: synthetic pairs from target-language text."""

from click.testing import CliRunner

from translit.cli import main
from translit.data.corpus import read_parallel

from helpers import write_lines


def test_new_words_of_the_text_become_pairs_after_the_real_ones(trained_run, tmp_path):
    """The reversal model is its own reverse: each new word of a-h comes back reversed; known
    words, words of other letters and what is not a word are left out."""
    src = write_lines(tmp_path / "train.src", ["abc", "hga"])
    tgt = write_lines(tmp_path / "train.tgt", ["cba", "agh"])
    text = write_lines(tmp_path / "text.tgt", ["cba dcba, 42 eghh", "Привет dcba xyz-agh", ""])
    output = tmp_path / "train.tsv"
    result = CliRunner().invoke(main, ["corpus", "backtranslate", text, "-m",
                                       trained_run["run_dir"], "--pairs", src, tgt,
                                       "-o", str(output), "--n-best", "3", "--margin", "0"])
    assert result.exit_code == 0, result.output
    assert '"new_units": 2' in result.output and '"synthetic_pairs": 2' in result.output
    corpus = read_parallel(tsv=str(output))  # what a recipe's data.train: {tsv: ...} reads
    assert list(zip(corpus.sources, corpus.targets)) == [
        ("abc", "cba"), ("hga", "agh"), ("abcd", "dcba"), ("hhge", "eghh")]

    wide = tmp_path / "wide.tsv"  # a wider margin keeps more back-translations per word
    result = CliRunner().invoke(main, ["corpus", "backtranslate", text, "-m",
                                       trained_run["run_dir"], "--pairs", src, tgt,
                                       "-o", str(wide), "--n-best", "3", "--margin", "1000"])
    assert result.exit_code == 0, result.output
    assert len(read_parallel(tsv=str(wide))) == 2 + 2 * 3

    known = tmp_path / "known.tsv"  # the words the pairs hold are written back too
    result = CliRunner().invoke(main, ["corpus", "backtranslate", text, "-m",
                                       trained_run["run_dir"], "--pairs", src, tgt,
                                       "-o", str(known), "--margin", "0", "--include-known"])
    assert result.exit_code == 0, result.output
    corpus = read_parallel(tsv=str(known))
    assert list(zip(corpus.sources, corpus.targets))[2:] == [
        ("abc", "cba"), ("abcd", "dcba"), ("hhge", "eghh"), ("hga", "agh")]


def test_bad_text_is_named_with_its_line(trained_run, tmp_path):
    src = write_lines(tmp_path / "train.src", ["abc"])
    tgt = write_lines(tmp_path / "train.tgt", ["cba"])
    text = tmp_path / "text.tgt"
    text.write_bytes(b"dcba\n\xff\xfe\n")
    runner = CliRunner()
    command = ["corpus", "backtranslate", str(text), "-m", trained_run["run_dir"],
               "--pairs", src, tgt, "-o", str(tmp_path / "out.tsv")]
    result = runner.invoke(main, command)
    assert result.exit_code == 1 and f"{text}:2: not valid UTF-8" in result.output
    text.write_text("cba\n", encoding="utf-8")  # nothing new
    result = runner.invoke(main, command)
    assert result.exit_code == 1 and "nothing to back-translate" in result.output
