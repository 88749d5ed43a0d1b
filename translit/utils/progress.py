"""Training progress: throughput meter and the display on stderr."""

from __future__ import annotations

import datetime
import os
import sys
import time
from typing import Optional

STAGE_ENV = "TRANSLIT_STAGE"  # "3/9 name": the stage a process runs (translit.training.stages)


def timestamp() -> str:
    """The local time with its offset, to the second: ``2026-11-28T09:12:45+00:00``."""
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


class Meter:
    """Loss, token throughput and padding since the last summary."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.start, self.losses = time.perf_counter(), []
        self.source_tokens = self.target_tokens = self.target_positions = 0.0

    def add(self, loss: float, counts) -> None:
        """Args: counts: (source tokens, target tokens, target positions with padding, pairs)."""
        self.losses.append(loss)
        self.source_tokens += counts[0]
        self.target_tokens += counts[1]
        self.target_positions += counts[2]

    def summary(self) -> dict:
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        result = {"loss": round(sum(self.losses) / max(len(self.losses), 1), 4),
                  "source_tokens_per_s": round(self.source_tokens / elapsed, 1),
                  "target_tokens_per_s": round(self.target_tokens / elapsed, 1),
                  "target_padding": round(1 - self.target_tokens / max(self.target_positions, 1),
                                          4)}
        self.reset()
        return result


class PassTally:
    """What the pass over the corpus in progress trained: pairs, source and target tokens."""

    def __init__(self):
        self.pairs = self.source_tokens = self.target_tokens = 0

    def add(self, counts) -> None:
        """Args: counts: a step's (source tokens, target tokens, target positions, pairs)."""
        self.source_tokens += int(counts[0])
        self.target_tokens += int(counts[1])
        self.pairs += int(counts[3])

    def summary(self) -> dict:
        return {"pairs": self.pairs, "source_tokens": self.source_tokens,
                "target_tokens": self.target_tokens}


class Progress:
    """Progress on stderr: a bar redrawn in place on a terminal, plain lines otherwise.

    Args:
      total_steps: the bar's end (None: no bar, just the step).
      enabled: False on workers that are not the chief.
    """

    def __init__(self, total_steps: Optional[int], enabled: bool = True, stream=sys.stderr):
        self.total, self.enabled, self.stream = total_steps, enabled, stream
        # The stage of a recipe's plan that this training is (translit.training.stages).
        stage = os.environ.get(STAGE_ENV)
        self.stage = f"stage {stage} " if stage else ""
        self.tty = stream.isatty()
        self.latest, self.dev, self.drawn = "", "", 0.0
        self.first: Optional[tuple] = None  # (step, time) of the first update: the pace's origin

    def left(self, step: int) -> str:
        """The time left until ``total_steps`` at the pace since the first update ("" unknown)."""
        now = time.monotonic()
        if self.first is None:
            self.first = (step, now)
        steps, seconds = step - self.first[0], now - self.first[1]
        if not self.total or steps <= 0:
            return ""
        return _duration(max(self.total - step, 0) * seconds / steps)

    def update(self, step: int, epoch: int) -> None:
        left = self.left(step)
        if not (self.enabled and self.tty) or time.monotonic() - self.drawn < 0.25:
            return
        self.drawn = time.monotonic()
        bar = ""
        if self.total:
            done = int(30 * min(step / self.total, 1.0))
            bar = f"[{'=' * done}{' ' * (30 - done)}] "
        total = f"/{self.total}" if self.total else ""
        left = f" {left} left" if left else ""
        self.stream.write(f"\r{self.stage}{bar}step {step}{total}{left} epoch {epoch} "
                          f"{self.latest} {self.dev}\033[K")
        self.stream.flush()

    def show(self, record: dict) -> dict:
        """Prints a train or eval record on its own line (train records with the time left);
        the latest loss and dev score also go into the bar."""
        if not self.enabled:
            return record
        fields = [_format(key, value) for key, value in record.items() if key != "time"]
        if record["type"] == "train":
            self.latest = f"loss {record['loss']:.4f} {record['target_tokens_per_s']:,.0f} tok/s"
            left = self.left(record["step"])
            fields += [f"left {left}"] if left else []
        if record["type"] == "eval":
            self.dev = next((f"dev {key[6:]} {value:.4g}" for key, value in record.items()
                             if key.startswith("valid_") and key != "valid_loss"), "")
        stage = [self.stage.strip()] if self.stage else []
        text = "  ".join([time.strftime("%Y-%m-%d %H:%M:%S")] + stage + fields)
        self.stream.write(("\r\033[K" if self.tty else "") + text + "\n")
        self.stream.flush()
        return record


def _format(key: str, value) -> str:
    if key == "type":
        return f"{value:<5}"
    if isinstance(value, float):
        value = f"{value:,.0f}" if key.endswith("per_s") else f"{value:.4g}"
    return f"{key} {value}"


class LineProgress:
    """Lines done, lines/s and, when the total is known, the time left: one line redrawn in place
    on a terminal, nothing otherwise (so that pipes and logs stay clean)."""

    def __init__(self, total: Optional[int] = None, stream=sys.stderr):
        self.total, self.stream = total, stream
        self.enabled, self.start = stream.isatty(), time.monotonic()

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        rate = done / max(time.monotonic() - self.start, 1e-9)
        text = f"{done:,}" + (f"/{self.total:,}" if self.total else "") + \
            f" lines  {rate:,.1f} lines/s"
        if self.total and rate > 0:
            text += f"  {_duration((self.total - done) / rate)} left"
        self.stream.write(f"\r{text}\033[K")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _duration(seconds: float) -> str:
    """``1h02m``, ``3m05s`` or ``42s``."""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"
