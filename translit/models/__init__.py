"""Recurrent encoder-decoder models."""

from translit.models.ensemble import Ensemble
from translit.models.seq2seq import Seq2Seq, build_model, trackable_weights

__all__ = ["Ensemble", "Seq2Seq", "build_model", "trackable_weights"]
