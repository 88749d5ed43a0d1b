"""Recurrent encoder-decoder models."""

from translit.models.seq2seq import Seq2Seq, build_model, trackable_weights

__all__ = ["Seq2Seq", "build_model", "trackable_weights"]
