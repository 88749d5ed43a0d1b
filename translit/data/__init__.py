"""Text in: corpora and their checks, named corpora, normalization, words, tokenizers, and the
tf.data pipeline that turns files into token batches."""
