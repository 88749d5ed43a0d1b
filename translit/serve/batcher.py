"""Dynamic batching: requests that arrive within a few milliseconds share one call of the model.

Requests wait in an asyncio queue; the batching task takes the first, and with it every request
already queued (those that arrived while the model ran the previous batch), then waits for more
for up to ``max_delay`` seconds (at most ``max_batch_size`` sentences, all with the same n-best
width; a ``max_delay`` of 0 forms batches from what is queued, as Triton's dynamic batcher does),
runs one :meth:`translit.api.LoadedModel.translate` call in the model's worker thread, and hands
every caller its own slice, in its order. The event loop stays free while the model runs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import time
from typing import Callable, List, Optional


class QueueFull(Exception):
    """More sentences are waiting than the queue takes; the caller should retry later."""


@dataclasses.dataclass
class _Request:
    texts: List[str]
    n_best: Optional[int]
    future: asyncio.Future


class Batcher:
    """Merges concurrent translation requests into batches.

    Args:
      model: a :class:`translit.api.LoadedModel`.
      executor: the single worker thread that runs the model (shared with other model calls).
      max_batch_size: sentences per model call at most (one request larger than it runs alone).
      max_delay: seconds the first request of a batch waits for others (0: none; the
        requests queued meanwhile join it all the same).
      max_queue: sentences waiting at most; beyond it :meth:`translate` raises QueueFull.
      on_batch: called with each batch's sentence count (metrics).
    """

    def __init__(self, model, executor: concurrent.futures.Executor, max_batch_size: int,
                 max_delay: float, max_queue: int, on_batch: Callable[[int], None] = None):
        self.model, self.executor = model, executor
        self.max_batch_size, self.max_delay, self.max_queue = max_batch_size, max_delay, max_queue
        self.on_batch = on_batch or (lambda size: None)
        self.waiting = 0  # sentences queued, not yet in a model call
        self._queue: asyncio.Queue = asyncio.Queue()
        self._task: Optional[asyncio.Task] = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Finishes what is queued, then ends the batching task."""
        await self._queue.join()
        if self._task:
            self._task.cancel()

    async def translate(self, texts: List[str], n_best: Optional[int] = None) -> list:
        """The translations of ``texts`` (as :meth:`LoadedModel.translate` returns them)."""
        if self.waiting + len(texts) > self.max_queue:
            raise QueueFull(f"{self.waiting} sentences are waiting")
        future = asyncio.get_running_loop().create_future()
        self.waiting += len(texts)
        await self._queue.put(_Request(list(texts), n_best, future))
        return await future

    async def _run(self) -> None:
        pending: Optional[_Request] = None
        while True:
            first = pending or await self._queue.get()
            batch, pending = [first], None
            size, deadline = len(first.texts), time.monotonic() + self.max_delay
            while size < self.max_batch_size:
                request = await self._next(deadline)
                if request is None:
                    break
                if request.n_best != first.n_best or size + len(request.texts) > \
                        self.max_batch_size:
                    pending = request  # opens the next batch
                    break
                batch.append(request)
                size += len(request.texts)
            await self._translate(batch, size)

    async def _next(self, deadline: float) -> Optional[_Request]:
        """A request already queued, else one that arrives before ``deadline``, else None."""
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            pass
        left = deadline - time.monotonic()
        if left <= 0:  # no waiting (nor a get task to cancel) once the delay is over
            return None
        try:
            return await asyncio.wait_for(self._queue.get(), left)
        except asyncio.TimeoutError:
            return None

    async def _translate(self, batch: List[_Request], size: int) -> None:
        self.waiting -= size
        self.on_batch(size)
        texts = [text for request in batch for text in request.texts]
        try:
            outputs = await asyncio.get_running_loop().run_in_executor(
                self.executor, lambda: self.model.translate(
                    texts, n_best=batch[0].n_best, batch_size=max(size, 1)))
        except Exception as error:  # noqa: BLE001  each caller gets the error, the loop goes on
            outputs, failure = None, error
        start = 0
        for request in batch:
            if not request.future.done():  # a caller that went away cancelled its future
                if outputs is None:
                    request.future.set_exception(failure)
                else:
                    request.future.set_result(outputs[start:start + len(request.texts)])
            start += len(request.texts)
            self._queue.task_done()
