"""Text mode (decode.unit: word): running text through a model trained on words."""

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import translit
from translit.cli import main
from translit.data.words import split

LETTERS = set("abcdefghijklmnopqrstuvwxyz")


def test_split_keeps_what_is_not_a_word_of_the_source_script():
    pieces = split("Mehrotra, Dr॰ N. likhte hain: https://x.org/a.b and a.b@c.in इसके 42%",
                   LETTERS)
    words = [p.text for p in pieces if p.is_word]
    assert words == ["Mehrotra", "Dr", "N", "likhte", "hain", "and"]
    kept = "".join(p.text for p in pieces if not p.is_word)
    assert "https://x.org/a.b" in kept and "a.b@c.in" in kept and "इसके 42%" in kept


def test_full_stop_ends_sentences_not_initials_or_numbers():
    line = "ve aaye. N. Kumar ne 3.5 kaha (sach.) ant."
    text = "".join(p.text for p in split(line, LETTERS, full_stop="।"))
    assert text == "ve aaye। N. Kumar ne 3.5 kaha (sach।) ant।"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_pieces_join_back_to_the_line(line):
    assert "".join(p.text for p in split(line, LETTERS)) == line


def test_reversal_model_transliterates_running_text_word_by_word(trained_run, tmp_path):
    """The reversal model reads words of a-h: each word is reversed, the rest kept."""
    source = tmp_path / "in.txt"
    source.write_text("abc, DEF ghab.\nhea bade: \"fed\" 42 cab\n\nПривет abcd\n",
                      encoding="utf-8")
    result = CliRunner().invoke(main, ["translate", str(source), "-m", trained_run["run_dir"],
                                       "--unit", "word"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["cba, fed bahg.", "aeh edab: \"def\" 42 bac", "",
                                          "Привет dcba"]
    model = translit.load(trained_run["run_dir"], unit="word")
    assert model.translate(["ABC abc Abc"]) == ["cba cba cba"]  # case does not change it
    n_best = CliRunner().invoke(main, ["translate", str(source), "-m", trained_run["run_dir"],
                                       "--unit", "word", "--beam", "2", "--n-best", "2"])
    assert n_best.exit_code == 1 and "line 1 holds 3 words" in n_best.output
    words = model.translate(["DEF", "(ghab)"], beam=3, n_best=3)  # suggestions per word
    assert [h.text for h in words[0]][0] == "fed" and len({h.text for h in words[0]}) == 3
    assert words[1][0].text == "(bahg)" and all(h.text.startswith("(") for h in words[1])


def test_emoji_huge_lines_and_mixed_scripts_pass_through_aligned(trained_run, tmp_path, caplog):
    lines = ["😀😀 🎉", "hhga" * 25_000, "abcd " * 20_000, "abcनमस्ते fed", "", "\u200b"]
    source = tmp_path / "in.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["translate", str(source), "-m", trained_run["run_dir"],
                                       "--unit", "word"])
    assert result.exit_code == 0, result.output
    output = result.stdout.split("\n")[:-1]
    assert len(output) == len(lines)
    assert output[0] == "😀😀 🎉"
    assert output[1] == lines[1]  # one word of 100,000 letters: kept, with a warning
    assert "line 2: a word of 100000 letters kept as it is" in caplog.text
    assert output[2] == "dcba " * 20_000
    assert output[3] == "cbaनमस्ते def"  # the Devanagari part of the word is kept
    assert output[4:] == ["", "\u200b"]
