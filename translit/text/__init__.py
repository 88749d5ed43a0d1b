"""Text mode: running text transliterated word by word, each word's candidates passed through a
chain of steps (dictionary, word prior, noisy channel, language model in context), and the tools
that build their data (back-translation, romanization)."""
