"""translit's version, and the versions of the libraries a model's numbers depend on."""

from __future__ import annotations

from importlib import metadata
from typing import Dict

__version__ = "0.1.0"


def versions() -> Dict[str, str]:
    """{"translit": ..., "tensorflow": ..., "keras": ...}, read from the installed packages'
    metadata (TensorFlow is not imported)."""
    found = {"translit": __version__}
    for package in ("tensorflow", "keras"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def version_line() -> str:
    """``translit 0.1.0 (TensorFlow 2.21.0, Keras 3.15.0)``, as ``translit --version`` prints."""
    found = versions()
    return (f"translit {found['translit']} (TensorFlow {found['tensorflow']}, "
            f"Keras {found['keras']})")
