"""A training's graceful stop: SIGINT (Ctrl-C) and SIGTERM let the step in progress finish."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Optional

log = logging.getLogger(__name__)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequests:
    """While active, SIGINT and SIGTERM are noted in ``received`` instead of stopping the
    process; a second one stops it at once (the previous handlers are back by then).

    Args:
      enabled: False leaves the handlers alone (e.g. in a multi-worker job, whose workers
        could not agree on the step to stop at).
    """

    def __init__(self, enabled: bool = True):
        self.enabled = enabled and threading.current_thread() is threading.main_thread()
        self.received: Optional[int] = None
        self._previous = {}

    def __enter__(self) -> "StopRequests":
        if self.enabled:
            self._previous = {number: signal.signal(number, self._note) for number in STOP_SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        self._restore()

    def _note(self, number: int, frame) -> None:
        self.received = number
        self._restore()
        log.warning("%s received: stopping after this step with a checkpoint (send it again to "
                    "stop at once)", signal.Signals(number).name)

    def _restore(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous = {}
