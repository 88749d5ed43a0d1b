"""`translit serve` over loopback: the JSON API and TensorFlow Serving's forms translate as
`translit translate` does, requests are batched and each caller gets its own results, bad
requests get their status while the server goes on, SIGTERM drains, keys are enforced."""

import asyncio
import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from click.testing import CliRunner

import translit
from translit.cli import main
from translit.serve.batcher import Batcher

from helpers import REPO

SOURCES = ["abcd", "hhga", "", "fed", "gfedcba"]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, path, body=None, method=None, headers=None, raw=None):
    """(status, JSON answer or text, response headers) of one request."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json",
                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            status, text, got = response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as e:
        status, text, got = e.code, e.read().decode(), e.headers
    try:
        return status, json.loads(text), got
    except json.JSONDecodeError:
        return status, text, got


def start_server(run_dir, *options):
    """A `translit serve` subprocess on a free port, returned once /readyz says ready."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "translit.cli", "serve", "-m", run_dir, "--port", str(port),
         *options], env={**os.environ, "PYTHONPATH": REPO}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "not ready after 300 s"
        try:
            if call(base, "/readyz")[0] == 200:
                return process, base
        except OSError:
            pass
        time.sleep(0.2)


@pytest.fixture(scope="module")
def server(trained_run):
    """Batches wait up to 1 s for 8 sentences; requests take at most 8 texts of 100 characters."""
    process, base = start_server(trained_run["run_dir"], "--beam", "3", "--max-delay-ms", "1000",
                                 "--max-batch-size", "8", "--max-queue", "8", "--max-texts", "8",
                                 "--max-chars", "100", "--max-body-bytes", "4096")
    yield base
    process.terminate()
    process.communicate(timeout=120)


@pytest.fixture(scope="module")
def model(trained_run):
    return translit.load(trained_run["run_dir"], beam=3)


def test_translations_equal_translit_translate(server, model):
    status, answer, _ = call(server, "/v1/translate", {"texts": SOURCES})
    assert status == 200 and answer["translations"] == model.translate(SOURCES)
    best = model.translate(SOURCES, n_best=3)
    assert answer["scores"] == pytest.approx([hyps[0].score for hyps in best], abs=1e-4)
    status, answer, _ = call(server, "/v1/translate", {"texts": SOURCES, "n_best": 3})
    assert status == 200
    assert answer["translations"] == [[h.text for h in hyps] for hyps in best]
    assert [s for row in answer["scores"] for s in row] == pytest.approx(
        [h.score for hyps in best for h in hyps], abs=1e-4)


def test_tensorflow_serving_request_forms(server, model):
    expected = model.translate(["abcd", "fed"])
    status, rows, _ = call(server, "/v1/models/run:predict",
                           {"instances": ["abcd", {"texts": "fed"}]})
    assert status == 200 and [p["translations"] for p in rows["predictions"]] == expected
    status, columns, _ = call(server, "/v1/models/run:predict",
                              {"inputs": {"texts": ["abcd", "fed"]}})
    assert status == 200 and columns["outputs"]["translations"] == expected
    assert columns["outputs"]["scores"] == pytest.approx([p["scores"] for p in
                                                         rows["predictions"]])
    status, beams, _ = call(server, "/v1/models/run:predict",
                            {"signature_name": "n_best", "instances": ["abcd"]})
    assert status == 200 and beams["predictions"][0]["translations"] == [
        h.text for h in model.translate(["abcd"], n_best=3)[0]]
    status, info, _ = call(server, "/v1/models/run")
    assert status == 200 and info["beam_size"] == 3 and info["models"][0]["step"] == 800
    assert info["models"][0]["recipe"]["tokenizer"]["type"] == "char"
    status, listed, _ = call(server, "/v1/models")
    assert status == 200 and listed["models"] == ["run"]
    assert listed["versions"]["translit"] == translit.__version__
    assert set(listed["versions"]) == {"translit", "tensorflow", "keras"}


def test_concurrent_clients_each_get_their_own_translation(server, model):
    words = ["".join("abcdefgh"[(i * 7 + k * 3) % 8] for k in range(3 + i % 4)) for i in range(8)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:  # as many as the queue takes
        answers = list(pool.map(lambda w: call(server, "/v1/translate", {"texts": [w]}), words))
    assert [a[0] for a in answers] == [200] * 8
    assert [a[1]["translations"][0] for a in answers] == model.translate(words)


def test_requests_arriving_together_share_one_model_call(model):
    sizes = []

    async def five_callers():
        batcher = Batcher(model, concurrent.futures.ThreadPoolExecutor(1), max_batch_size=64,
                          max_delay=2.0, max_queue=64, on_batch=sizes.append)
        batcher.start()
        texts = [["abcd"], ["fed", "hhga"], [""], ["gfe"], ["abc", "abcd", "abcde"]]
        answers = await asyncio.gather(*(batcher.translate(t) for t in texts))
        await batcher.stop()
        return texts, answers

    texts, answers = asyncio.run(five_callers())
    assert sizes == [8]  # one model call for the five requests
    assert answers == [model.translate(request) for request in texts]


def test_without_a_delay_requests_queued_meanwhile_share_a_call(model):
    """max_delay 0: the first request runs at once; those queued while it runs form the next
    batch together."""
    sizes = []

    async def callers():
        batcher = Batcher(model, concurrent.futures.ThreadPoolExecutor(1), max_batch_size=64,
                          max_delay=0.0, max_queue=64, on_batch=sizes.append)
        batcher.start()
        first = asyncio.ensure_future(batcher.translate(["abcd"]))
        await asyncio.sleep(0)  # the batching task takes the first request alone
        later = [batcher.translate(t) for t in (["fed"], ["hhga", "gfe"], ["abc"])]
        answers = await asyncio.gather(first, *later)
        await batcher.stop()
        return answers

    answers = asyncio.run(callers())
    assert sizes == [1, 4]
    assert answers == [model.translate(t) for t in (["abcd"], ["fed"], ["hhga", "gfe"], ["abc"])]


BAD_REQUESTS = [
    ("POST", "/v1/translate", b"{not json", 400, None),
    ("POST", "/v1/translate", b'["abcd"]', 400, None),
    ("POST", "/v1/translate", b'{}', 400, "texts"),
    ("POST", "/v1/translate", b'{"texts": "abcd"}', 400, "texts"),
    ("POST", "/v1/translate", b'{"texts": ["a", "b", "c", 4]}', 400, "texts[3]"),
    ("POST", "/v1/translate", b'{"texts": ["a"], "beam": 4}', 400, "beam"),
    ("POST", "/v1/translate", b'{"texts": ["a"], "n_best": 4}', 400, "n_best"),
    ("POST", "/v1/translate", b'{"texts": ["a"], "attention": true}', 400, "attention"),
    ("POST", "/v1/translate", json.dumps({"texts": ["a"] * 9}).encode(), 413, "texts"),
    ("POST", "/v1/translate", json.dumps({"texts": ["a" * 101]}).encode(), 413, "texts[0]"),
    ("POST", "/v1/translate", json.dumps({"texts": ["a"], "pad": "x" * 5000}).encode(), 413,
     None),
    ("POST", "/v1/models/run:predict", b'{"texts": ["a"]}', 400, "texts"),
    ("POST", "/v1/models/other:predict", b'{"instances": ["a"]}', 404, None),
    ("GET", "/v1/translate", None, 405, None),
    ("GET", "/nowhere", None, 404, None),
]


@pytest.mark.parametrize("method, path, raw, status, field", BAD_REQUESTS)
def test_bad_requests_get_their_status_and_the_server_goes_on(server, method, path, raw, status,
                                                              field):
    got, answer, _ = call(server, path, method=method, raw=raw)
    assert got == status and answer["error"], answer
    assert answer["field"] == field
    assert call(server, "/v1/translate", {"texts": ["abcd"]})[1]["translations"] == ["dcba"]


def test_a_full_queue_answers_503_with_retry_after(server):
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(call, server, "/v1/translate", {"texts": ["abc"] * 7})
        deadline = time.monotonic() + 60
        while "translit_queue_sentences 7.0" not in call(server, "/metrics")[1]:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        status, answer, headers = call(server, "/v1/translate", {"texts": ["ab", "ba"]})
        assert status == 503 and headers["Retry-After"] == "1" and "busy" in answer["error"]
        assert waiting.result()[0] == 200
    metrics = call(server, "/metrics")[1]
    assert 'translit_requests_total{route="/v1/translate",status="503"}' in metrics
    assert "translit_batch_sentences_bucket" in metrics


def test_keys_are_required_and_sigterm_drains(trained_run, tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("s3cret\n")
    process, base = start_server(trained_run["run_dir"], "--api-key-file", str(key_file),
                                 "--max-delay-ms", "1500")
    assert call(base, "/v1/translate", {"texts": ["abcd"]})[0] == 401
    assert call(base, "/v1/translate", {"texts": ["abcd"]},
                headers={"Authorization": "Bearer wrong"})[0] == 401
    assert call(base, "/healthz")[0] == 200  # probes need no key
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(call, base, "/v1/translate", {"texts": ["abcd"]},
                                headers={"Authorization": "Bearer s3cret"})
        deadline = time.monotonic() + 60
        while "translit_queue_sentences 1.0" not in call(
                base, "/metrics", headers={"Authorization": "Bearer s3cret"})[1]:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        process.send_signal(signal.SIGTERM)
        status, answer, _ = in_flight.result()
    assert status == 200 and answer["translations"] == ["dcba"]
    process.communicate(timeout=120)
    assert process.returncode == 0


def test_a_non_loopback_host_needs_a_key(trained_run):
    result = CliRunner().invoke(main, ["serve", "-m", trained_run["run_dir"], "--host", "0.0.0.0"])
    assert result.exit_code == 1 and "--api-key-file" in result.output
    assert "--insecure" in result.output and "Traceback" not in result.output


def test_attention_weights_and_pieces_for_attention_models(attention_run):
    process, base = start_server(attention_run["run_dir"])
    try:
        status, answer, _ = call(base, "/v1/translate", {"texts": ["abcd", ""],
                                                         "attention": True})
    finally:
        process.terminate()
        process.communicate(timeout=120)
    assert status == 200 and answer["attention"][1] is None  # a blank text has none
    maps = answer["attention"][0]
    assert maps["source"] == ["a", "b", "c", "d", "</s>"]
    assert "".join(maps["target"][:-1]) == answer["translations"][0]
    assert len(maps["weights"]) == len(maps["target"])
    assert all(len(row) == 5 and sum(row) == pytest.approx(1, abs=1e-3)
               for row in maps["weights"])


def test_text_mode_transliterates_running_text_and_refuses_n_best(trained_run):
    process, base = start_server(trained_run["run_dir"], "--unit", "word", "--beam", "2")
    try:
        status, answer, _ = call(base, "/v1/translate", {"texts": ["abc, DEF ghab.", ""]})
        suggested = call(base, "/v1/translate", {"texts": ["DEF,", "?"], "n_best": 2})
        refused = call(base, "/v1/translate", {"texts": ["abc def"], "n_best": 2})
        ready = call(base, "/readyz")[0]
    finally:
        process.terminate()
        process.communicate(timeout=120)
    assert status == 200 and answer["translations"] == ["cba, fed bahg.", ""]
    assert suggested[0] == 200 and suggested[1]["translations"][1] == ["?"]
    first, second = suggested[1]["translations"][0]  # the word's two best, its comma kept
    assert first == "fed," and second.endswith(",") and second != first
    assert refused[0] == 400 and "line 1 holds 2 words" in refused[1]["error"] and ready == 200


# The page, in a real headless Chromium (Debian's chromium and chromium-driver; .ci/run installs
# them).
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
needs_chromium = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)) and not os.environ.get("CI"),
    reason="apt-get install chromium chromium-driver for the browser tests")


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1000,800"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@needs_chromium
def test_the_page_translates_as_you_type_and_offers_alternatives(server, model, browser,
                                                                  tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def words():
        return [w.text for w in browser.find_elements(By.CSS_SELECTOR, ".word")]

    browser.get(server + "/")
    wait = WebDriverWait(browser, 60)
    wait.until(lambda b: "beam 3" in b.find_element(By.ID, "model-info").text)
    browser.find_element(By.ID, "source").send_keys("abcd hhga")
    expected = model.translate(["abcd", "hhga"])
    wait.until(lambda b: words() == expected)
    browser.find_elements(By.CSS_SELECTOR, ".word")[0].click()
    alternatives = browser.find_elements(By.CSS_SELECTOR, ".alternatives button")
    best = model.translate(["abcd"], n_best=3)[0]
    assert [a.text.rsplit(" ", 1)[0] for a in alternatives] == [h.text for h in best]
    alternatives[1].click()
    assert words() == [best[1].text, expected[1]]  # the chosen alternative replaced the word
    browser.save_screenshot(str(tmp_path / "page.png"))
    assert (tmp_path / "page.png").stat().st_size > 10_000


@needs_chromium
def test_the_page_transliterates_running_text_with_suggestions_per_word(trained_run, browser):
    """Text mode: case folded, punctuation kept, a click on a word offers its suggestions."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def words():
        return [w.text for w in browser.find_elements(By.CSS_SELECTOR, ".word")]

    model = translit.load(trained_run["run_dir"], beam=3, unit="word")
    process, base = start_server(trained_run["run_dir"], "--unit", "word", "--beam", "3")
    try:
        browser.get(base + "/")
        wait = WebDriverWait(browser, 60)
        wait.until(lambda b: "beam 3" in b.find_element(By.ID, "model-info").text)
        browser.find_element(By.ID, "source").send_keys("ABCD, hhga.")
        wait.until(lambda b: words() == ["dcba,", "aghh."])
        browser.find_elements(By.CSS_SELECTOR, ".word")[0].click()
        alternatives = browser.find_elements(By.CSS_SELECTOR, ".alternatives button")
        best = model.translate(["ABCD,"], n_best=3)[0]
        assert [a.text.rsplit(" ", 1)[0] for a in alternatives] == [h.text for h in best]
        assert all(h.text.endswith(",") for h in best)
        alternatives[2].click()
        assert words() == [best[2].text, "aghh."]
    finally:
        process.terminate()
        process.communicate(timeout=120)


@needs_chromium
def test_the_page_shows_sentences_with_their_n_best_list(sentencepiece_run, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    process, base = start_server(sentencepiece_run["run_dir"], "--beam", "2")
    try:
        browser.get(base + "/")
        wait = WebDriverWait(browser, 60)
        wait.until(lambda b: "beam 2" in b.find_element(By.ID, "model-info").text)
        browser.find_element(By.ID, "source").send_keys("elf\nzwölf")
        wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "table.nbest")) == 2)
        expected = translit.load(sentencepiece_run["run_dir"], beam=2).translate(
            ["elf", "zwölf"], n_best=2)
        shown = [[row.find_elements(By.TAG_NAME, "td")[1].text for row in
                  table.find_elements(By.TAG_NAME, "tr")]
                 for table in browser.find_elements(By.CSS_SELECTOR, "table.nbest")]
        assert shown == [[h.text for h in hyps] for hyps in expected]
        browser.save_screenshot(str(tmp_path / "sentences.png"))
    finally:
        process.terminate()
        process.communicate(timeout=120)
