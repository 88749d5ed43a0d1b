"""Progress lines: the time left, for translation and for training."""

import io

from translit.utils import progress as progress_module
from translit.utils.progress import LineProgress, Progress


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_translation_progress_says_how_long_is_left(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    terminal = _Terminal()
    progress = LineProgress(total=1000, stream=terminal)
    clock[0] += 10.0  # 250 lines in 10 s: 750 more take 30 s
    progress.update(250)
    assert terminal.getvalue().startswith("\r250/1,000 lines  25.0 lines/s  30s left")
    clock[0] += 3590.0
    progress.update(500)
    assert "/s  1h00m left" in terminal.getvalue()
    plain = io.StringIO()  # not a terminal: nothing drawn
    LineProgress(total=10, stream=plain).update(5)
    assert plain.getvalue() == ""


def test_the_training_progress_says_how_long_is_left_and_the_dev_score(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    terminal = _Terminal()
    progress = Progress(total_steps=1000, stream=terminal)
    progress.update(100, 0)  # the pace is measured from the first update
    clock[0] += 60.0  # then 100 steps a minute
    progress.show({"type": "eval", "step": 200, "valid_loss": 1.5, "valid_bleu": 31.25})
    line = progress.show({"type": "train", "step": 200, "loss": 1.25, "target_tokens_per_s": 10.0})
    assert line["type"] == "train" and "left" not in line  # the record itself is not changed
    printed = terminal.getvalue().splitlines()[-1]
    assert "step 200" in printed and printed.endswith("left 8m00s")
    progress.update(200, 1)
    assert "step 200/1000 8m00s left epoch 1 loss 1.2500" in terminal.getvalue()
    assert terminal.getvalue().rstrip("\x1b[K").endswith("dev bleu 31.25")
