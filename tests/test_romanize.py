"""translit corpus romanize: native-script words beside their scholarly romanization."""

import json

from click.testing import CliRunner

from translit.cli import main
from translit.text.dictionary import read_pairs

from helpers import write_lines


def test_words_are_written_in_the_scheme_as_typed_most_frequent_first(tmp_path):
    text = write_lines(tmp_path / "text.deva", [
        "पहली वातानुकूलित रेलगाड़ी बन गयी, जब 1934 में।",
        "इसमें एक Express भी था, मुंबई में।"])
    output = str(tmp_path / "dictionary" / "iso.tsv")  # its directory is made
    result = CliRunner().invoke(main, ["corpus", "romanize", text, "-o", output])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"words": 13, "pairs": 12, "scheme": "iso15919",
                                         "script": "devanagari"}
    pairs = dict(read_pairs(output))
    assert list(pairs)[0] == "mem"  # में, twice in the text
    assert pairs["vatanukulita"] == ["वातानुकूलित"] and pairs["relagari"] == ["रेलगाड़ी"]
    assert pairs["bana"] == ["बन"] and pairs["isamem"] == ["इसमें"]
    assert pairs["mumbai"] == ["मुंबई"] and "express" not in pairs  # Latin words are left out
    iast = str(tmp_path / "hk.tsv")
    assert CliRunner().invoke(main, ["corpus", "romanize", text, "-o", iast,
                                     "--scheme", "hk"]).exit_code == 0
    assert read_pairs(iast)["vAtAnukUlita".casefold()] == ["वातानुकूलित"]


def test_a_text_without_the_script_or_not_utf8_is_named(tmp_path):
    latin = write_lines(tmp_path / "latin.txt", ["no devanagari here"])
    refused = CliRunner().invoke(main, ["corpus", "romanize", latin, "-o", str(tmp_path / "o")])
    assert refused.exit_code == 1 and "latin.txt: no word in Devanagari script" in refused.output
    broken = tmp_path / "broken.txt"
    broken.write_bytes("में\n".encode() + b"\xff\xfe\n")
    refused = CliRunner().invoke(main, ["corpus", "romanize", str(broken), "-o",
                                        str(tmp_path / "o")])
    assert refused.exit_code == 1 and "broken.txt" in refused.output
    assert "broken.txt:2: not valid UTF-8" in refused.output
