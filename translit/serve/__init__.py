"""``translit serve``: a translation service for applications, and a page to try a model.

:mod:`translit.serve.app` holds the routes, :mod:`translit.serve.batcher` the dynamic batching,
``static/`` the page. :func:`serve` loads a model and runs the service with uvicorn until SIGINT
or SIGTERM, after which it answers what it accepted and exits.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
from typing import Optional, Sequence

from translit.errors import UserError
from translit.serve.app import RequestLimits, Settings, create_app
from translit.utils.interrupts import STOP_SIGNALS

log = logging.getLogger(__name__)
__all__ = ["RequestLimits", "Settings", "create_app", "serve"]


def serve(paths: Sequence[str], host: str, port: int, *, beam: Optional[int] = None,
          checkpoint: Optional[str] = None, name: Optional[str] = None,
          api_key_file: Optional[str] = None, insecure: bool = False,
          max_batch_size: int = 64, max_delay_ms: float = 5.0, max_queue: int = 1024,
          limits: RequestLimits = RequestLimits(), **text_options) -> None:
    """Serves the model of ``paths`` (run directories, an ensemble, or an export) over HTTP.

    Args:
      text_options: ``unit``, ``word_prior``, ``lm``, ``channel`` and their settings, as
        :func:`translit.load` takes them.

    Raises:
      UserError: a non-loopback ``host`` without an API key (and without ``insecure``), an
        unreadable or empty key file, or a model that cannot be loaded.
    """
    import uvicorn

    from translit.api import load

    api_key = _read_key(api_key_file) if api_key_file else None
    if not _is_loopback(host) and api_key is None and not insecure:
        raise UserError(f"--host {host} accepts connections from other machines: give "
                        "--api-key-file FILE (requests then need 'Authorization: Bearer KEY'), "
                        "or --insecure to serve without a key")
    model = load(list(paths), beam=beam, checkpoint=checkpoint, **text_options)
    if model.kind == "litert":
        raise UserError(f"{paths[0]} is a LiteRT export, which translates one sentence at a "
                        "time for apps; serve its run directory or a SavedModel export "
                        "(`translit export` without --format litert)")
    settings = Settings(name=name or _default_name(paths[0]), max_batch_size=max_batch_size,
                        max_delay_ms=max_delay_ms, max_queue=max_queue, api_key=api_key,
                        limits=limits)
    log.info("serving %s (%s, beam %d) at http://%s:%d/", settings.name, model.kind,
             model.beam_size, host, port)
    config = uvicorn.Config(create_app(model, settings), host=host, port=port,
                            log_level="warning", timeout_graceful_shutdown=60)
    server = uvicorn.Server(config)
    # uvicorn drains on SIGINT and SIGTERM, then sends the signal again to the handlers it found:
    # these make that a clean exit (status 0) instead of a death by signal or a KeyboardInterrupt.
    previous = {number: signal.signal(number, lambda *_: None) for number in STOP_SIGNALS}
    try:
        server.run()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if not server.started:
        raise UserError(f"cannot listen on {host}:{port} (in use, or not an address of this "
                        "machine); choose another --port or --host")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def _read_key(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            key = f.read().strip()
    except OSError as e:
        raise UserError(f"--api-key-file {path}: cannot be read ({e.strerror})") from None
    if not key:
        raise UserError(f"--api-key-file {path} is empty; write the key into it")
    return key


def _default_name(path: str) -> str:
    """The run directory's or export's folder name, the name in ``/v1/models/NAME``."""
    return os.path.basename(os.path.normpath(path))
