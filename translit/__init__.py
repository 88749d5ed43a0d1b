"""translit: recurrent encoder-decoder translation and transliteration on Keras 3 and TensorFlow.

Python API: ``translit.load(path)`` returns a model whose ``translate(texts, beam=..., n_best=...)``
translates (see :mod:`translit.api`); mistakes a caller can fix raise :class:`UserError`.
TensorFlow is imported by ``load``, not with the package.
"""

from translit.api import LoadedModel, load
from translit.decoding.hypothesis import Hypothesis
from translit.errors import UserError
from translit.version import __version__

__all__ = ["Hypothesis", "LoadedModel", "UserError", "__version__", "load"]
