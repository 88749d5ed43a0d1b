"""Text out: beam search, the translator graph (strings in, strings out), forced scoring of
given translations, and the metrics (sacreBLEU, accuracy, CER)."""
