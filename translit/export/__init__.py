"""Exports: the string-in/string-out SavedModel, the LiteRT model and its runtime without
TensorFlow (``on_device``, which imports nothing heavy: keep this package's ``__init__`` empty)."""
