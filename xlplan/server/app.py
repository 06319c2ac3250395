"""The FastAPI app of ``xlplan serve``: the add-in's files and the function-call routes.

Routes
------
``GET /manifest.xml``    the Office add-in manifest (custom functions, shared runtime)
``GET /functions.json``  custom-functions metadata, generated from :mod:`xlplan.udfs`
``GET /functions.js``    registers every function; batches the calls of one recalculation
``GET /taskpane.html``   the shared runtime's page: function list, server status, errors
``GET /health``          ``{"status": "ok", ...}``
``POST /call``           one call in the xlwings convention -> ``{"result": [[...]]}``
``POST /batch``          ``{"calls": [...]}`` -> ``{"results": [{"status", "result"|"error"}]}``

Cheap calls run on a thread so the event loop keeps accepting requests; slow
ones (``FIT_COEFFS``) run in :class:`~xlplan.server.slow.SlowPool` processes
with a time limit, so they never hold up the cheap ones.
"""

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from .. import __version__, udfs
from . import assets, manifest, metadata
from .calls import Batch, Call, CallFailure, outcome, prepare
from .guard import RequestGuard
from .icons import ICON_SIZES, png_square
from .security import BodyLimit, TokenGate
from .settings import QUEUE_PER_WORKER, Settings
from .slow import SlowPool

__all__ = ["create_app"]


def _base_url(settings, request):
    """Where Office should fetch the add-in's files: --public-url, else this request's host."""
    return (settings.public_url or str(request.base_url)).rstrip("/")


class _Calls:
    """Runs prepared calls: cheap ones inline (on a worker thread), slow ones in the pool."""

    def __init__(self, settings):
        self.settings = settings
        self.slow = SlowPool(settings.slow_workers, settings.slow_timeout,
                             max_wait=settings.max_queue_wait,
                             max_pending=QUEUE_PER_WORKER * settings.slow_workers)

    @staticmethod
    def _one(spec, args):
        """One call's answer, whatever happens in it: a bad cell never fails its batch."""
        try:
            return outcome(spec.func(*args), spec.name)
        except Exception as error:  # noqa: BLE001  (the registry wrapper is the first line)
            return CallFailure(400, "#VALUE!", f"{spec.name}: {type(error).__name__}: "
                               f"{str(error)[:200]}").outcome()

    def _cheap(self, prepared):
        return [self._one(spec, args) for spec, args in prepared]

    async def _slow(self, spec, args):
        try:
            return outcome(await self.slow.run(spec.name, args), spec.name)
        except CallFailure as failure:
            return failure.outcome()

    async def run(self, calls):
        """(status, body) for each call, in order."""
        answers = [None] * len(calls)
        cheap, slow = [], []
        for i, call in enumerate(calls):
            try:
                spec, args = prepare(call, self.settings.max_cells)
            except CallFailure as failure:
                answers[i] = failure.outcome()
                continue
            (slow if spec.slow else cheap).append((i, spec, args))
        pending = [self._slow(spec, args) for _, spec, args in slow]
        if cheap:
            pending.append(run_in_threadpool(self._cheap, [(s, a) for _, s, a in cheap]))
        done = await asyncio.gather(*pending)
        # done holds one answer per slow call, then (if any) the list of cheap answers
        for (i, _, _), answer in zip(slow, done, strict=False):
            answers[i] = answer
        if cheap:
            for (i, _, _), answer in zip(cheap, done[-1], strict=True):
                answers[i] = answer
        return answers


def create_app(settings=None):
    """The ASGI app for ``settings`` (:class:`~xlplan.server.settings.Settings`)."""
    settings = settings or Settings()
    calls = _Calls(settings)

    @asynccontextmanager
    async def lifespan(app):
        calls.slow.start()
        yield
        await calls.slow.close()

    app = FastAPI(title="xlplan", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url=None, lifespan=lifespan)

    @app.exception_handler(CallFailure)
    async def failed(request, failure):
        status, body = failure.outcome()
        return JSONResponse(body, status_code=status)

    @app.get("/health")
    async def health():
        return {"status": "ok", "version": __version__, "functions": len(udfs.FUNCTIONS),
                "slow_calls_running": calls.slow.running,
                "slow_calls_in_workers": calls.slow.in_workers,
                "slow_calls_computed": calls.slow.computed,
                "slow_workers_ready": calls.slow.ready}

    @app.get("/manifest.xml")
    async def manifest_xml(request: Request):
        xml = manifest.manifest_xml(_base_url(settings, request), settings.token)
        return Response(xml, media_type="application/xml")

    @app.get("/functions.json")
    async def functions_json():
        return metadata.functions_metadata()

    @app.get("/functions.js")
    async def functions_js(request: Request):
        script = assets.functions_js(_base_url(settings, request), settings)
        return Response(script, media_type="text/javascript")

    @app.get("/taskpane.html")
    async def taskpane():
        page = assets.taskpane_html(settings.token)
        return HTMLResponse(page, headers={"content-security-policy":
                                           assets.taskpane_policy(page)})

    for size in ICON_SIZES:
        app.add_api_route(f"/icon-{size}.png", _icon_route(size), methods=["GET"])

    @app.post("/call")
    async def call(request: Request):
        body = _parse(Call, await request.body())
        status, answer = (await calls.run([body]))[0]
        return JSONResponse(answer, status_code=status)

    @app.post("/batch")
    async def batch(request: Request):
        body = _parse(Batch, await request.body())
        if len(body.calls) > settings.max_batch:
            raise CallFailure(413, "#VALUE!", f"a batch of {len(body.calls)} calls is over the "
                              f"limit of {settings.max_batch}: send smaller batches")
        answers = await calls.run(body.calls)
        return JSONResponse({"results": [{"status": s, **a} for s, a in answers]})

    wrapped = BodyLimit(app, settings.max_body_bytes, settings.read_timeout)
    if settings.token:
        wrapped = TokenGate(wrapped, settings.token)
    wrapped = RequestGuard(wrapped, settings)
    wrapped.pool = calls.slow  # the runner stops it at the first signal
    return wrapped


def _parse(model, raw):
    """The request body as ``model`` (the guard has checked it is declared JSON); else a 400."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise CallFailure(400, "#VALUE!", f"malformed request body: {first['msg']}"
                          + (f" at {where}" if where else "")) from None


def _icon_route(size):
    body = png_square(size)

    async def icon():
        return Response(body, media_type="image/png",
                        headers={"cache-control": "max-age=86400"})
    return icon
