"""Named corpora: fetch through the real download code from a local HTTP server (a mirror of
../shared/corpora, and a fake origin), with a checksum mismatch and an interrupted transfer;
recipes that name a corpus; `translit corpus list/check`."""

import gzip
import hashlib
import http.server
import io
import json
import os
import shutil
import tarfile
import threading

import pytest
from click.testing import CliRunner

from translit.cli import main
from translit.data import named_corpora
from translit.data.named_corpora import CorpusFile, NamedCorpus, fetch, sha256_of
from translit.errors import UserError
from translit.recipe import load_recipe

from helpers import REPO, write_lines

SHARED = os.path.join(os.path.dirname(REPO), "shared", "corpora")
needs_shared = pytest.mark.skipif(not os.path.isdir(os.path.join(SHARED, "dakshina_hi")),
                                  reason="../shared/corpora is not beside the repository")


class _Server(http.server.ThreadingHTTPServer):
    """Serves ``root`` with HTTP Range support; cuts the first response of each file named in
    ``interrupt`` after half its bytes. ``ranges`` records the Range headers received."""

    def __init__(self, root, interrupt=()):
        self.root, self.interrupt, self.ranges = root, set(interrupt), []
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        path = os.path.join(self.server.root, self.path.lstrip("/"))
        if not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, "rb") as f:
            data = f.read()
        start = 0
        header = self.headers.get("Range")
        self.server.ranges.append(header)
        if header:
            start = int(header.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        name = os.path.basename(path)
        if name in self.server.interrupt:  # promise everything, send half, hang up
            self.server.interrupt.discard(name)
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


@pytest.fixture
def mirror():
    server = _Server(SHARED)
    yield server
    server.shutdown()


@needs_shared
def test_fetch_from_a_mirror_url_verifies_every_file(mirror, tmp_path):
    directory = fetch("dakshina_hi", str(tmp_path), mirror=mirror.url)
    for name in ("train.latn", "train.deva", "valid.latn", "valid.deva", "test.latn", "test.deva"):
        with open(os.path.join(directory, name), "rb") as a, \
                open(os.path.join(SHARED, "dakshina_hi", name), "rb") as b:
            assert a.read() == b.read()
    assert sorted(os.listdir(directory)) == sorted(
        f.name for f in named_corpora.REGISTRY["dakshina_hi"].files)  # no leftovers
    mirror.ranges.clear()
    fetch("dakshina_hi", str(tmp_path), mirror=mirror.url)  # verified files are kept
    assert mirror.ranges == []


@needs_shared
def test_checksum_mismatch_is_refused_and_leaves_nothing(tmp_path):
    root = tmp_path / "mirror"
    shutil.copytree(os.path.join(SHARED, "dakshina_hi"), root / "dakshina_hi")
    os.chmod(root / "dakshina_hi" / "valid.deva", 0o644)
    with open(root / "dakshina_hi" / "valid.deva", "ab") as f:
        f.write("तोड़\n".encode())
    server = _Server(str(root))
    try:
        with pytest.raises(UserError, match=r"valid\.deva: checksum mismatch"):
            fetch("dakshina_hi", str(tmp_path / "dest"), mirror=server.url)
    finally:
        server.shutdown()
    names = os.listdir(tmp_path / "dest" / "dakshina_hi")
    assert "valid.deva" not in names and "train.deva" in names  # earlier files stay verified
    leftovers = os.listdir(tmp_path / "dest" / "dakshina_hi" / ".downloads")
    assert not [n for n in leftovers if n.startswith("valid.deva")]


@needs_shared
def test_interrupted_transfer_resumes(tmp_path):
    server = _Server(SHARED, interrupt={"train.deva"})
    try:
        with pytest.raises(UserError, match="interrupted .* run the same command again"):
            fetch("dakshina_hi", str(tmp_path), mirror=server.url)
        directory = tmp_path / "dakshina_hi"
        assert not (directory / "train.deva").exists()
        partial = directory / ".downloads" / "train.deva.part"
        size = partial.stat().st_size
        assert 0 < size < os.path.getsize(os.path.join(SHARED, "dakshina_hi", "train.deva"))
        fetch("dakshina_hi", str(tmp_path), mirror=server.url)
        assert f"bytes={size}-" in server.ranges  # resumed, not restarted
        assert sha256_of(directory / "train.deva") == sha256_of(
            os.path.join(SHARED, "dakshina_hi", "train.deva"))
    finally:
        server.shutdown()


def _fake_origin(tmp_path, monkeypatch):
    """A registry entry served by a local "origin": a .gz file and a TSV inside a tar."""
    root = tmp_path / "origin"
    root.mkdir()
    (root / "words.de.gz").write_bytes(gzip.compress("eins\nzwei\n".encode()))
    tsv = "एक\tek\t3\nदो\tdo\t2\n".encode()
    sentences = "ek do, teen.\n".encode()
    with tarfile.open(root / "release.tar", "w") as archive:
        for name, data in (("release/lexicon.tsv", tsv), ("release/sentences.txt", sentences)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    server = _Server(str(root))

    def digest(text):
        return hashlib.sha256(text.encode()).hexdigest()

    corpus = NamedCorpus(
        name="toy", languages=("de", "hi"), description="toy", license="none", citation="none",
        files=(CorpusFile("train.de", f"{server.url}/words.de.gz", digest("eins\nzwei\n")),
               CorpusFile("train.latn", f"{server.url}/release.tar", digest("ek\ndo\n"),
                          member="release/lexicon.tsv", column=1),
               CorpusFile("train.deva", f"{server.url}/release.tar", digest("एक\nदो\n"),
                          member="release_v2/lexicon.tsv", column=0),  # another top folder
               CorpusFile("sentences.latn", f"{server.url}/release.tar",
                          digest("ek do, teen.\n"), member="release/sentences.txt",
                          column=None)),
        splits={"train": ("train.latn", "train.deva")})
    monkeypatch.setitem(named_corpora.REGISTRY, "toy", corpus)
    return server


def test_fetch_from_the_origin_gunzips_and_extracts(tmp_path, monkeypatch):
    server = _fake_origin(tmp_path, monkeypatch)
    try:
        directory = fetch("toy", str(tmp_path / "dest"))
    finally:
        server.shutdown()
    assert open(os.path.join(directory, "train.de"), encoding="utf-8").read() == "eins\nzwei\n"
    assert open(os.path.join(directory, "train.deva"), encoding="utf-8").read() == "एक\nदो\n"
    assert open(os.path.join(directory, "sentences.latn"), encoding="utf-8").read() == \
        "ek do, teen.\n"  # a whole member, lines kept whole
    assert server.ranges.count(None) == 2  # the archive was downloaded once for three files
    assert not os.path.exists(os.path.join(directory, ".downloads"))


def test_unreachable_origin_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["corpus", "fetch", "multi30k", "--dest", str(tmp_path),
                                       "--mirror", "http://127.0.0.1:9"])
    assert result.exit_code == 1 and "cannot be reached" in result.output
    assert "Traceback" not in result.output


@needs_shared
def test_recipe_names_a_corpus(tmp_path):
    path = tmp_path / "recipe.yaml"
    path.write_text(f"data: {{corpus: dakshina_hi, corpus_dir: {SHARED}}}\n"
                    "train: {max_steps: 1}\n", encoding="utf-8")
    recipe = load_recipe(str(path))
    assert recipe.data.train.src == os.path.join(SHARED, "dakshina_hi", "train.latn")
    assert recipe.data.test.tgt == os.path.join(SHARED, "dakshina_hi", "test.deva")
    missing = tmp_path / "missing.yaml"
    missing.write_text(f"data: {{corpus: multi30k, corpus_dir: {tmp_path}}}\n"
                       "train: {max_steps: 1}\n", encoding="utf-8")
    with pytest.raises(UserError, match="translit corpus fetch multi30k"):
        load_recipe(str(missing))


def test_corpus_list_and_unknown_names():
    result = CliRunner().invoke(main, ["corpus", "list"])
    assert result.exit_code == 0 and "multi30k  de -> en" in result.output
    assert "dakshina_hi" in result.output and "CC BY-SA 4.0" in result.output
    result = CliRunner().invoke(main, ["corpus", "fetch", "wmt99"])
    assert result.exit_code == 1 and "Unknown corpus 'wmt99'" in result.output


def test_corpus_check_reports_findings(tmp_path):
    src = write_lines(tmp_path / "a.src", ["ein Haus", "", "ein Haus", "ja", "ein Haus",
                                           "kurz", "eine sehr lange Zeile hier"])
    tgt = write_lines(tmp_path / "a.tgt", ["a house", "nothing", "a house", "yes", "one house",
                                           "a very long line that goes on and on", "long"])
    result = CliRunner().invoke(main, ["corpus", "check", src, tgt, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["lines"] == 7
    assert report["empty_source"] == {"count": 1, "first_lines": [2]}
    assert report["duplicate_pairs"] == {"count": 1, "first_lines": [3]}
    assert report["sources_with_several_targets"]["first_lines"] == [5]
    assert report["length_ratio_outliers"]["first_lines"] == [6, 7]
    text = CliRunner().invoke(main, ["corpus", "check", src, tgt]).output
    assert "duplicate pairs: 1 (lines 3)" in text


def test_corpus_check_refuses_misaligned_files(tmp_path):
    src = write_lines(tmp_path / "a.src", ["one", "two"])
    tgt = write_lines(tmp_path / "a.tgt", ["eins"])
    result = CliRunner().invoke(main, ["corpus", "check", src, tgt])
    assert result.exit_code == 1 and "a.src has 2 lines" in result.output


@needs_shared
def test_fetch_command_prints_the_directory(mirror, tmp_path):
    result = CliRunner().invoke(main, ["corpus", "fetch", "dakshina_hi", "--dest", str(tmp_path),
                                       "--mirror", mirror.url])
    assert result.exit_code == 0, result.output
    directory = result.stdout.strip().splitlines()[-1]
    assert directory == str(tmp_path / "dakshina_hi")
    for file in named_corpora.REGISTRY["dakshina_hi"].files:  # the dev sentences too
        assert sha256_of(os.path.join(directory, file.name)) == file.sha256
