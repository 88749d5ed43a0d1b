"""translit: recurrent encoder-decoder translation and transliteration on Keras 3 and TensorFlow."""

__version__ = "0.1.0"
