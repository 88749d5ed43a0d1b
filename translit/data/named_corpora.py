"""Named corpora: a registry of standard corpora, and fetching them from their origin or a mirror.

``translit corpus fetch NAME`` downloads each file with resume (HTTP ``Range``), derives the plain
UTF-8 files translit reads (gunzip, or columns of a TSV inside a tar archive), checks their
SHA-256 and only then moves them to their final names. A mirror is a directory or an http(s) URL
laid out like the destination: ``MIRROR/NAME/FILE`` holding the final files.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import shutil
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional, Tuple

from translit.errors import UserError
from translit.utils.files import atomic_path

log = logging.getLogger(__name__)
DEFAULT_DIR = os.environ.get("TRANSLIT_CORPORA",
                             os.path.join(os.path.expanduser("~"), ".cache", "translit", "corpora"))
CHUNK = 1 << 16


@dataclass(frozen=True)
class CorpusFile:
    """One file of a named corpus.

    Attributes:
      name: the file name in the corpus directory (``train.de``).
      url: where the origin serves it (a ``.gz`` file or a ``.tar`` archive).
      sha256: checksum of the final, plain UTF-8 file.
      member: for archives, the member inside the tar; ``column`` the 0-based TSV column, or
        None for whole lines.
    """

    name: str
    url: str
    sha256: str
    member: Optional[str] = None
    column: Optional[int] = 0


@dataclass(frozen=True)
class NamedCorpus:
    name: str
    languages: Tuple[str, str]
    description: str
    license: str
    citation: str
    files: Tuple[CorpusFile, ...]
    splits: Dict[str, Tuple[str, str]] = field(default_factory=dict)  # split -> (src, tgt)

    def split_paths(self, directory: str, split: str) -> Tuple[str, str]:
        src, tgt = self.splits[split]
        return os.path.join(directory, self.name, src), os.path.join(directory, self.name, tgt)


_MULTI30K = "https://raw.githubusercontent.com/multi30k/dataset/master/data/task1/raw/{}.{}.gz"
_DAKSHINA = "https://storage.googleapis.com/gresearch/dakshina/dakshina_dataset_v1.0.tar"
_DAKSHINA_TSV = "dakshina_dataset_v1.0/hi/lexicons/hi.translit.sampled.{}.tsv"
# Romanized Wikipedia sentences and their originals (the test half is kept for final figures).
_DAKSHINA_SENTENCES = "dakshina_dataset_v1.0/hi/romanized/hi.romanized.rejoined.dev.{}.txt"

_SHA256 = {  # of the final files
    "multi30k/train.de": "2c2b73fd2b548fbcde3a875e0a78d6ee94d498bfdee6bd3eae3945779e9ddf72",
    "multi30k/train.en": "460a15fbd157e34a7a9957ee388c1ca247fe47af3ef25fb50442af6c274e0fc6",
    "multi30k/valid.de": "660e09eb7e1da2f856ea13ee5ad3cf6d36b3d5b0b733c857e94c5747a3dfc660",
    "multi30k/valid.en": "1f2a23d992769b5b3d209b0a10dd0b77c08cceb1f20dfb97ed0aafa49d107227",
    "multi30k/test.de": "4be6b5b3236b79c25475c6bb829800a7ce559e9ba7a1f6c2394fe4d40be46d16",
    "multi30k/test.en": "399a4382932c1aadd3ceb9bef1008d388a64c76d4ae4e9d4728c6f4301cac182",
    "dakshina_hi/train.latn": "e786a12cf6cf9a812f92cf11c0a9b3181403c4280e2ef0626553386b0dea333a",
    "dakshina_hi/train.deva": "0786fd92622561c65d25fd32fc3c896cb965babe92f1aa57c83abde5818401a5",
    "dakshina_hi/valid.latn": "28db0ed6e9fc23f8bdf68124a0bd92af23564b306bc25d854a6cc3802f3437ca",
    "dakshina_hi/valid.deva": "9586f9a2585c1e4756fa718e324f32814ad7108beb3c0e30a439ac03a0a10644",
    "dakshina_hi/test.latn": "a9f270878817977dc2eb47133128b114d1c4e27ff828a08aa2344a4c89000a62",
    "dakshina_hi/test.deva": "f79cfafb8354519c1ab74abbb6baf5db2b6a83a2848656a65f33905deea52832",
    "dakshina_hi/sentences.dev.latn":
        "106fbc342d19587a9a7a7687e6bd8a0312669c238511618148c01b49f1c6f881",
    "dakshina_hi/sentences.dev.deva":
        "01bc13b653f8ffa3ec0ddfb4cb91c22c908e4d3a40afd39d2bfe48743b57e2b1",
}


def _multi30k_file(split, origin_split, language):
    name = f"{split}.{language}"
    return CorpusFile(name, _MULTI30K.format(origin_split, language), _SHA256[f"multi30k/{name}"])


def _dakshina_file(split, origin_split, script):
    column = 1 if script == "latn" else 0  # TSV columns: native word, romanization, count
    name = f"{split}.{script}"
    return CorpusFile(name, _DAKSHINA, _SHA256[f"dakshina_hi/{name}"],
                      member=_DAKSHINA_TSV.format(origin_split), column=column)


REGISTRY: Dict[str, NamedCorpus] = {corpus.name: corpus for corpus in (
    NamedCorpus(
        name="multi30k", languages=("de", "en"),
        description="Multi30k task 1 German-English image captions, raw and cased: train 29,000, "
                    "valid 1,014, test2016 1,000",
        license="derived from Flickr30K; non-commercial research and education",
        citation="Elliott et al. 2016, Multi30K: Multilingual English-German Image Descriptions",
        files=tuple(_multi30k_file(split, origin, language)
                    for split, origin in (("train", "train"), ("valid", "val"),
                                          ("test", "test_2016_flickr"))
                    for language in ("de", "en")),
        splits={s: (f"{s}.de", f"{s}.en") for s in ("train", "valid", "test")}),
    NamedCorpus(
        name="dakshina_hi", languages=("hi-Latn", "hi-Deva"),
        description="Dakshina v1.0 Hindi lexicon, romanized word -> Devanagari word: train "
                    "44,204, valid 4,358, test 4,502 pairs; and 5,000 romanized dev sentences "
                    "with their originals (sentences.dev.latn/.deva, for text mode)",
        license="CC BY-SA 4.0",
        citation="Roark et al. 2020, Processing South Asian Languages Written in the Latin "
                 "Script: the Dakshina Dataset (LREC)",
        files=tuple(_dakshina_file(split, origin, script)
                    for split, origin in (("train", "train"), ("valid", "dev"), ("test", "test"))
                    for script in ("latn", "deva")) + tuple(
            CorpusFile(f"sentences.dev.{script}", _DAKSHINA,
                       _SHA256[f"dakshina_hi/sentences.dev.{script}"],
                       member=_DAKSHINA_SENTENCES.format(side), column=None)
            for script, side in (("latn", "roman"), ("deva", "native"))),
        splits={s: (f"{s}.latn", f"{s}.deva") for s in ("train", "valid", "test")}),
)}


def get_corpus(name: str) -> NamedCorpus:
    if name not in REGISTRY:
        raise UserError(f"Unknown corpus {name!r}; `translit corpus list` shows the named "
                        f"corpora ({', '.join(REGISTRY)})")
    return REGISTRY[name]


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


DownloadProgress = Callable[[str, int, Optional[int]], None]  # (label, bytes so far, total or None)


def fetch(name: str, dest: str = DEFAULT_DIR, mirror: Optional[str] = None,
          progress: Optional[DownloadProgress] = None) -> str:
    """Fetches a named corpus into ``dest/NAME``; files already there with the right checksum
    are kept. Returns the corpus directory.

    Raises:
      UserError: unreachable origin, interrupted transfer (rerun to resume) or a checksum
        mismatch (the corrupted file is deleted; nothing is left under the final name).
    """
    corpus = get_corpus(name)
    directory = os.path.join(dest, corpus.name)
    downloads = os.path.join(directory, ".downloads")
    os.makedirs(downloads, exist_ok=True)
    for file in corpus.files:
        final = os.path.join(directory, file.name)
        if os.path.exists(final) and sha256_of(final) == file.sha256:
            log.info("%s: present, checksum verified", final)
            continue
        if mirror:
            source = os.path.join(downloads, file.name)
            _download(_mirror_url(mirror, corpus.name, file.name), source, progress)
        else:
            source = os.path.join(downloads, os.path.basename(file.url))
            if not os.path.exists(source):
                _download(file.url, source, progress)
        with atomic_path(final) as partial:  # a corrupted file is deleted
            if mirror:  # a mirror serves the final files
                os.replace(source, partial)
            else:
                _derive(file, source, partial)
            _verify(partial, final, file)
    shutil.rmtree(downloads, ignore_errors=True)  # kept only while a fetch is unfinished
    return directory


def _mirror_url(mirror: str, corpus: str, file: str) -> str:
    if "://" in mirror:
        return f"{mirror.rstrip('/')}/{corpus}/{file}"
    return "file://" + os.path.abspath(os.path.join(mirror, corpus, file))


def _download(url: str, path: str, progress: Optional[DownloadProgress]) -> None:
    """Downloads ``url`` to ``path`` through ``path.part``, resuming a previous partial file."""
    part = path + ".part"
    have = os.path.getsize(part) if os.path.exists(part) else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # the partial file is already complete
            os.replace(part, path)
            return
        raise UserError(f"{url}: HTTP {e.code} {e.reason}; check the URL or use --mirror") from None
    except (urllib.error.URLError, OSError) as e:
        raise UserError(f"{url}: cannot be reached ({getattr(e, 'reason', e)}); check the "
                        "network or use --mirror DIR_OR_URL") from None
    with response:
        resumed = have and getattr(response, "status", 200) == 206
        total = response.headers.get("Content-Length")
        total = int(total) + (have if resumed else 0) if total else None
        done = have if resumed else 0
        try:
            with open(part, "ab" if resumed else "wb") as f:
                for block in iter(lambda: response.read(CHUNK), b""):
                    f.write(block)
                    done += len(block)
                    if progress:
                        progress(os.path.basename(path), done, total)
        except (OSError, urllib.error.URLError) as e:
            raise UserError(f"{url}: transfer interrupted at {done} bytes ({e}); run the same "
                            "command again to resume") from None
    if total is not None and done < total:
        raise UserError(f"{url}: transfer interrupted at {done} of {total} bytes; run the same "
                        "command again to resume")
    os.replace(part, path)


def _derive(file: CorpusFile, source: str, target: str) -> None:
    """The plain file from what the origin serves: gunzipped, or a TSV column of a tar member."""
    try:
        if file.member:
            with tarfile.open(source) as archive:
                member = archive.extractfile(_find_member(archive, file.member, source))
                with open(target, "w", encoding="utf-8") as out:
                    for raw in member:  # lines end at "\n" only, as everywhere
                        line = raw.decode("utf-8").rstrip("\n").rstrip("\r")
                        if file.column is not None:
                            line = line.split("\t")[file.column]
                        out.write(line + "\n")
        elif source.endswith(".gz"):
            with gzip.open(source, "rb") as f, open(target, "wb") as out:
                shutil.copyfileobj(f, out)
        else:
            shutil.copyfile(source, target)
    except (OSError, EOFError, tarfile.TarError, UnicodeDecodeError) as e:
        os.remove(source)
        raise UserError(f"{source}: damaged download ({e}); deleted it, run the same command "
                        "again to download it anew") from None


def _find_member(archive: tarfile.TarFile, name: str, source: str) -> tarfile.TarInfo:
    """The member ``name``, or one whose path ends like it (the top folder may differ)."""
    tail = name.split("/", 1)[-1]
    for member in archive.getmembers():
        if member.name == name or member.name.endswith("/" + tail):
            return member
    raise UserError(f"{source} has no member {name!r}; the release layout differs from the "
                    "registry's (translit/named_corpora.py); use --mirror with the final files")


def _verify(path: str, final: str, file: CorpusFile) -> None:
    actual = sha256_of(path)
    if actual != file.sha256:
        raise UserError(f"{final}: checksum mismatch (SHA-256 {actual}, expected {file.sha256}); "
                        "the download is corrupted or the origin changed. It was deleted; run "
                        "the command again, or fetch from another --mirror")
