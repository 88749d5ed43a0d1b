import gzip

import pytest

from translit.data.corpus import read_parallel
from translit.errors import UserError


def test_pairs_are_read_and_empty_lines_skipped_and_counted(tmp_path, caplog):
    (tmp_path / "a.de").write_text("eins\n\nzwei\n  \ndrei\n", encoding="utf-8")
    (tmp_path / "a.en").write_text("one\nx\ntwo\ny\nthree\n", encoding="utf-8")
    corpus = read_parallel(str(tmp_path / "a.de"), str(tmp_path / "a.en"))
    assert corpus.sources == ["eins", "zwei", "drei"]
    assert corpus.targets == ["one", "two", "three"]
    assert corpus.skipped_empty == 2
    assert "skipped 2 pairs with an empty side" in caplog.text


def test_mismatched_line_counts_name_both_files(tmp_path):
    (tmp_path / "a.de").write_text("eins\nzwei\ndrei\n", encoding="utf-8")
    (tmp_path / "a.en").write_text("one\ntwo\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"a.de has 3 lines, .*a.en has 2"):
        read_parallel(str(tmp_path / "a.de"), str(tmp_path / "a.en"))


def test_invalid_utf8_names_file_and_line(tmp_path):
    (tmp_path / "a.de").write_bytes(b"eins\nzw\xffei\n")
    (tmp_path / "a.en").write_text("one\ntwo\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"a.de:2: not valid UTF-8"):
        read_parallel(str(tmp_path / "a.de"), str(tmp_path / "a.en"))


def test_bom_crlf_gzip_and_tsv_are_accepted(tmp_path):
    (tmp_path / "a.de").write_bytes("\ufeffeins\r\nzwei\r\n".encode("utf-8"))
    with gzip.open(tmp_path / "a.en.gz", "wt", encoding="utf-8") as f:
        f.write("one\ntwo\n")
    corpus = read_parallel(str(tmp_path / "a.de"), str(tmp_path / "a.en.gz"))
    assert corpus.sources == ["eins", "zwei"] and corpus.targets == ["one", "two"]
    (tmp_path / "p.tsv").write_text("eins\tone\nzwei\ttwo\n", encoding="utf-8")
    assert read_parallel(tsv=str(tmp_path / "p.tsv")).targets == ["one", "two"]


def test_tsv_line_without_tab_is_named(tmp_path):
    (tmp_path / "p.tsv").write_text("eins\tone\nzwei two\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"p.tsv:2: expected 'source<TAB>target'"):
        read_parallel(tsv=str(tmp_path / "p.tsv"))


def test_missing_file_is_named(tmp_path):
    with pytest.raises(UserError, match=r"Corpus file not found: .*missing.de"):
        read_parallel(str(tmp_path / "missing.de"), str(tmp_path / "missing.en"))
