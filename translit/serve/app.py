"""The HTTP service: routes, request validation, limits, errors, the API key and metrics.

A Starlette application; uvicorn runs it (see :func:`translit.serve.serve`). Translations go
through the :class:`~translit.serve.batcher.Batcher`, other model calls (attention) through the
same worker thread, so the event loop answers ``/healthz`` while the model runs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import hmac
import json
import logging
import os
import time
from typing import Any, List, Optional

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from translit.errors import UserError
from translit.serve.batcher import Batcher, QueueFull
from translit.version import versions

log = logging.getLogger(__name__)
STATIC = os.path.join(os.path.dirname(__file__), "static")


@dataclasses.dataclass(frozen=True)
class RequestLimits:
    """What one request may ask for; larger requests get 413."""

    max_body_bytes: int = 1 << 20
    max_texts: int = 256
    max_chars: int = 2000


@dataclasses.dataclass(frozen=True)
class Settings:
    """How the service batches and who it lets in.

    Args:
      name: the model's name in ``/v1/models/NAME``.
      max_batch_size: sentences per model call at most.
      max_delay_ms: how long a request waits for others to share its model call.
      max_queue: sentences waiting at most; more get 503 with Retry-After.
      api_key: when set, ``/v1/*`` and ``/metrics`` need ``Authorization: Bearer KEY``.
    """

    name: str
    max_batch_size: int = 64
    max_delay_ms: float = 5.0
    max_queue: int = 1024
    api_key: Optional[str] = None
    limits: RequestLimits = RequestLimits()


class RequestError(Exception):
    """A request the service refuses: its status, message and the offending field."""

    def __init__(self, status: int, message: str, field: Optional[str] = None):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def create_app(model, settings: Settings) -> Starlette:
    """The service of a :class:`translit.api.LoadedModel`."""
    registry = CollectorRegistry()
    metrics = _Metrics(registry)
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
    state = {"ready": False}
    batcher = Batcher(model, executor, settings.max_batch_size, settings.max_delay_ms / 1000,
                      settings.max_queue, on_batch=metrics.batch_size.observe)
    metrics.queue.set_function(lambda: batcher.waiting)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        batcher.start()
        loop = asyncio.get_running_loop()
        warm_up = loop.run_in_executor(executor, _warm_up, model)
        warm_up.add_done_callback(lambda _: state.update(ready=True))
        yield
        await batcher.stop()  # what was accepted is answered
        executor.shutdown(wait=True)

    async def index(request):
        return FileResponse(os.path.join(STATIC, "index.html"))

    async def healthz(request):
        return JSONResponse({"status": "ok"})

    async def readyz(request):
        if state["ready"]:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "warming up"}, status_code=503)

    async def metrics_page(request):
        _authorize(request, settings.api_key)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    async def model_list(request):
        _authorize(request, settings.api_key)
        return JSONResponse({"models": [settings.name], "versions": versions()})

    async def model_info(request):
        _authorize(request, settings.api_key)
        _check_name(request, settings.name)
        info = await asyncio.get_running_loop().run_in_executor(executor, model.describe)
        return JSONResponse({"name": settings.name, **info})

    async def translate(request):
        _authorize(request, settings.api_key)
        body = await _json_body(request, settings.limits)
        _check_fields(body, {"texts", "n_best", "attention"})
        texts = _texts(body.get("texts"), "texts", settings.limits)
        n_best = _n_best(body.get("n_best"), model.beam_size)
        attention = body.get("attention", False)
        if not isinstance(attention, bool):
            raise RequestError(400, "expected true or false", "attention")
        if attention and not model.has_attention:
            raise RequestError(400, "this model has no attention", "attention")
        outputs = await _translate(batcher, texts, n_best or 1)
        answer = {"translations": [[h.text for h in hyps] for hyps in outputs],
                  "scores": [[h.score for h in hyps] for hyps in outputs]}
        if not n_best:
            answer = {key: [row[0] for row in rows] for key, rows in answer.items()}
        if attention:
            maps = await asyncio.get_running_loop().run_in_executor(
                executor, lambda: list(model.attention_maps(texts)))
            answer["attention"] = _attention(maps, len(texts))
        return JSONResponse(answer)

    async def predict(request):
        _authorize(request, settings.api_key)
        _check_name(request, settings.name)
        body = await _json_body(request, settings.limits)
        _check_fields(body, {"signature_name", "instances", "inputs"})
        signature = body.get("signature_name", "serving_default")
        if signature not in ("serving_default", "n_best"):
            raise RequestError(400, "expected serving_default or n_best", "signature_name")
        texts, rows = _predict_texts(body, settings.limits)
        outputs = await _translate(batcher, texts, model.beam_size if signature == "n_best" else 1)
        translations = [[h.text for h in hyps] for hyps in outputs]
        scores = [[h.score for h in hyps] for hyps in outputs]
        if signature == "serving_default":
            translations, scores = [t[0] for t in translations], [s[0] for s in scores]
        if rows:
            return JSONResponse({"predictions": [{"translations": t, "scores": s}
                                                 for t, s in zip(translations, scores)]})
        return JSONResponse({"outputs": {"translations": translations, "scores": scores}})

    routes = [
        Route("/", index), Route("/healthz", healthz), Route("/readyz", readyz),
        Route("/metrics", _errors(metrics_page)),
        Route("/v1/translate", _errors(translate), methods=["POST"]),
        Route("/v1/models/{name}:predict", _errors(predict), methods=["POST"]),
        Route("/v1/models", _errors(model_list)),
        Route("/v1/models/{name}", _errors(model_info)),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={HTTPException: _http_error})
    return _MetricsMiddleware(app, metrics)


def _warm_up(model) -> None:
    """Traces the graphs a first request would wait for."""
    model.translate(["warm up"])
    if model.unit == "line":  # text mode gives no n-best
        model.translate(["warm up"], n_best=model.beam_size)


async def _translate(batcher: Batcher, texts: List[str], n_best: int):
    try:
        return await batcher.translate(texts, n_best)
    except QueueFull as e:
        raise RequestError(503, f"the service is busy ({e}); retry shortly") from None


def _errors(endpoint):
    """Turns refused requests and model errors into JSON answers; the service goes on."""

    async def wrapper(request):
        try:
            return await endpoint(request)
        except RequestError as e:
            headers = {"Retry-After": "1"} if e.status == 503 else (
                {"WWW-Authenticate": "Bearer"} if e.status == 401 else None)
            return JSONResponse({"error": e.message, "field": e.field}, status_code=e.status,
                                headers=headers)
        except UserError as e:
            return JSONResponse({"error": str(e), "field": None}, status_code=400)
        except Exception:  # noqa: BLE001  logged; the caller gets a 500, the server lives on
            log.exception("request failed")
            return JSONResponse({"error": "internal error (logged by the server)",
                                 "field": None}, status_code=500)
    return wrapper


async def _http_error(request, exc: HTTPException):
    """404 and 405 (and other routing errors) as JSON like every other error."""
    return JSONResponse({"error": exc.detail, "field": None}, status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


def _authorize(request: Request, api_key: Optional[str]) -> None:
    if api_key is None:
        return
    given = request.headers.get("authorization", "")
    scheme, _, token = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), api_key.encode()):
        raise RequestError(401, "missing or wrong API key: send 'Authorization: Bearer KEY'",
                           "Authorization")


def _check_name(request: Request, name: str) -> None:
    if request.path_params["name"] != name:
        raise RequestError(404, f"no model named {request.path_params['name']!r}; this server "
                           f"serves {name!r}")


async def _json_body(request: Request, limits: RequestLimits) -> dict:
    """The request's JSON object, read up to ``limits.max_body_bytes``."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise RequestError(413, f"the body has {declared} bytes, more than the "
                           f"{limits.max_body_bytes} allowed")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.max_body_bytes:
            raise RequestError(413, f"the body is larger than the {limits.max_body_bytes} "
                               "bytes allowed")
        chunks.append(chunk)
    try:
        body = json.loads(b"".join(chunks).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RequestError(400, f"the body is not valid UTF-8 JSON ({e})") from None
    if not isinstance(body, dict):
        raise RequestError(400, f"expected a JSON object, received {type(body).__name__}")
    return body


def _check_fields(body: dict, known: set) -> None:
    for key in body:
        if key not in known:
            raise RequestError(400, f"unknown field; expected {', '.join(sorted(known))}", key)


def _texts(value: Any, field: str, limits: RequestLimits) -> List[str]:
    if value is None:
        raise RequestError(400, "missing: a list of strings to translate", field)
    if not isinstance(value, list):
        raise RequestError(400, f"expected a list of strings, received {type(value).__name__}",
                           field)
    if len(value) > limits.max_texts:
        raise RequestError(413, f"{len(value)} texts, more than the {limits.max_texts} allowed "
                           "per request", field)
    for index, text in enumerate(value):
        if not isinstance(text, str):
            raise RequestError(400, f"expected a string, received {type(text).__name__}",
                               f"{field}[{index}]")
        if len(text) > limits.max_chars:
            raise RequestError(413, f"{len(text)} characters, more than the {limits.max_chars} "
                               "allowed per text", f"{field}[{index}]")
    return value


def _n_best(value: Any, beam_size: int) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= beam_size:
        raise RequestError(400, f"expected an integer from 1 to the beam size {beam_size}, "
                           f"received {value!r}", "n_best")
    return value


def _predict_texts(body: dict, limits: RequestLimits):
    """TensorFlow Serving's row form (``instances``) or columnar form (``inputs``).

    Returns: the texts, and whether the request was in the row form.
    """
    if ("instances" in body) == ("inputs" in body):
        raise RequestError(400, "expected exactly one of 'instances' (row form) or 'inputs' "
                           "(columnar form)", "instances")
    if "instances" in body:
        instances = body["instances"]
        if isinstance(instances, list):
            instances = [row.get("texts", row) if isinstance(row, dict) and len(row) == 1
                         else row for row in instances]
        return _texts(instances, "instances", limits), True
    inputs = body["inputs"]
    if isinstance(inputs, dict) and set(inputs) == {"texts"}:
        return _texts(inputs["texts"], "inputs.texts", limits), False
    return _texts(inputs, "inputs", limits), False


def _attention(maps, count: int) -> list:
    """Attention per text (None for blank texts): weights (target, source), and the pieces."""
    result = [None] * count
    for index, weights, source, target in maps:
        result[index] = {"weights": [[round(float(w), 4) for w in row] for row in weights],
                         "source": source, "target": target}
    return result


class _Metrics:
    def __init__(self, registry: CollectorRegistry):
        self.requests = Counter("translit_requests", "HTTP requests by route and status",
                                ["route", "status"], registry=registry)
        self.latency = Histogram("translit_request_seconds", "Request latency by route",
                                 ["route"], registry=registry)
        self.batch_size = Histogram("translit_batch_sentences", "Sentences per model call",
                                    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
                                    registry=registry)
        self.queue = Gauge("translit_queue_sentences", "Sentences waiting for a model call",
                           registry=registry)


class _MetricsMiddleware:
    """Counts every HTTP request by route template and status, and times it."""

    def __init__(self, app, metrics: _Metrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, status = time.perf_counter(), [500]

        async def send_status(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(route, str(status[0])).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - start)
