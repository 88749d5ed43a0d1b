"""PNG plots: a run's training and dev curves, and attention heatmaps (matplotlib, Agg)."""

from __future__ import annotations

import logging
import warnings
from typing import Dict, Sequence

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from translit.errors import UserError  # noqa: E402

log = logging.getLogger(__name__)

CURVES_SIZE = (12, 4.5)  # inches at 100 dpi: 1200 x 450 pixels
DPI = 100
# Glyphs missing from the first family come from the next installed one (matplotlib >= 3.6), so
# Devanagari, Arabic or CJK pieces render where such a font is installed.
plt.rcParams["font.family"] = ["DejaVu Sans", "Noto Sans", "Noto Sans Devanagari",
                               "Lohit Devanagari", "Noto Sans Arabic", "Noto Sans CJK JP",
                               "FreeSans"]
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # absent families


def plot_curves(records: Sequence[Dict], output: str, title: str = "") -> str:
    """Training and dev loss (left), dev scores (right) against the step. Returns ``output``."""
    train = [r for r in records if r.get("type") == "train"]
    evals = [r for r in records if r.get("type") == "eval"]
    if not train and not evals:
        raise UserError("no training or evaluation records to plot yet")
    figure, (losses, scores) = plt.subplots(1, 2, figsize=CURVES_SIZE, dpi=DPI)
    losses.plot([r["step"] for r in train], [r["loss"] for r in train], label="training loss")
    losses.plot([r["step"] for r in evals], [r["valid_loss"] for r in evals], "o-",
                label="dev loss")
    losses.set(xlabel="step", ylabel="cross-entropy per token")
    for key in ("valid_bleu", "valid_chrf", "valid_accuracy", "valid_cer"):
        points = [(r["step"], r[key]) for r in evals if key in r]
        if any(value for _, value in points):  # BLEU of single words is 0 throughout
            scores.plot(*zip(*points), "o-", label=key.replace("valid_", "dev "))
    scores.set(xlabel="step", ylabel="score")
    for axes in (losses, scores):
        axes.grid(alpha=0.3)
        if axes.lines:
            axes.legend()
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(output, dpi=DPI)
    plt.close(figure)
    return output


def plot_attention(weights, source_pieces: Sequence[str], target_pieces: Sequence[str],
                   output: str) -> str:
    """One heatmap: target pieces (rows) against source pieces (columns).

    Args: weights (target, source) attention weights, each row summing to 1.
    """
    height = max(2.5, 0.35 * len(target_pieces) + 1.5)
    width = max(3.0, 0.35 * len(source_pieces) + 2.0)
    figure, axes = plt.subplots(figsize=(width, height), dpi=DPI)
    image = axes.imshow(weights, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    axes.set_xticks(range(len(source_pieces)), source_pieces, rotation=90)
    axes.set_yticks(range(len(target_pieces)), target_pieces)
    axes.set(xlabel="source", ylabel="translation")
    figure.colorbar(image, ax=axes, fraction=0.05)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure.tight_layout()
        figure.savefig(output, dpi=DPI)
    plt.close(figure)
    if any("missing from font" in str(w.message) for w in caught):
        log.warning("%s: no installed font has glyphs for some pieces (drawn as boxes); install "
                    "a font for the script, e.g. the Noto fonts", output)
    return output
