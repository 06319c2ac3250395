"""The routes of ``xlplan serve``, one :class:`fastapi.APIRouter`.

Each route reads what it needs from the app's state: ``settings``
(:class:`~xlplan.server.settings.Settings`) and ``dispatcher``
(:class:`~xlplan.server.dispatch.Dispatcher`), both set by
:func:`~xlplan.server.app.create_app`.

``GET /manifest.xml``    the Office add-in manifest (custom functions, shared runtime)
``GET /functions.json``  custom-functions metadata, generated from :mod:`xlplan.udfs`
``GET /functions.js``    registers every function; batches the calls of one recalculation
``GET /taskpane.html``   the shared runtime's page: function list, server status, errors
``GET /icon-<n>.png``    the add-in's icons
``GET /health``          ``{"status": "ok", ...}``
``POST /call``           one call in the xlwings convention -> ``{"result": [[...]]}``
``POST /batch``          ``{"calls": [...]}`` -> ``{"results": [{"status", "result"|"error"}]}``
"""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import ValidationError

from .. import __version__, udfs
from . import assets, manifest, metadata
from .calls import Batch, Call, CallFailure
from .icons import ICON_SIZES, png_square

__all__ = ["router"]

router = APIRouter()


def _base_url(request):
    """Where Office should fetch the add-in's files: --public-url, else this request's host."""
    return (request.app.state.settings.public_url or str(request.base_url)).rstrip("/")


def _parse(model, raw):
    """The request body as ``model`` (the guard has checked it is declared JSON); else a 400."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise CallFailure(
            400,
            "#VALUE!",
            f"malformed request body: {first['msg']}" + (f" at {where}" if where else ""),
        ) from None


@router.get("/health")
async def health(request: Request):
    pool = request.app.state.dispatcher.slow
    return {
        "status": "ok",
        "version": __version__,
        "functions": len(udfs.FUNCTIONS),
        "slow_calls_running": pool.running,
        "slow_calls_in_workers": pool.in_workers,
        "slow_calls_computed": pool.computed,
        "slow_workers_ready": pool.ready,
    }


@router.get("/manifest.xml")
async def manifest_xml(request: Request):
    xml = manifest.manifest_xml(_base_url(request), request.app.state.settings.token)
    return Response(xml, media_type="application/xml")


@router.get("/functions.json")
async def functions_json():
    return metadata.functions_metadata()


@router.get("/functions.js")
async def functions_js(request: Request):
    script = assets.functions_js(_base_url(request), request.app.state.settings)
    return Response(script, media_type="text/javascript")


@router.get("/taskpane.html")
async def taskpane(request: Request):
    page = assets.taskpane_html(request.app.state.settings.token)
    return HTMLResponse(page, headers={"content-security-policy": assets.taskpane_policy(page)})


def _icon_route(size):
    body = png_square(size)

    async def icon():
        return Response(body, media_type="image/png", headers={"cache-control": "max-age=86400"})

    return icon


for _size in ICON_SIZES:
    router.add_api_route(f"/icon-{_size}.png", _icon_route(_size), methods=["GET"])


@router.post("/call")
async def call(request: Request):
    body = _parse(Call, await request.body())
    status, answer = (await request.app.state.dispatcher.run([body]))[0]
    return JSONResponse(answer, status_code=status)


@router.post("/batch")
async def batch(request: Request):
    body = _parse(Batch, await request.body())
    limit = request.app.state.settings.max_batch
    if len(body.calls) > limit:
        raise CallFailure(
            413,
            "#VALUE!",
            f"a batch of {len(body.calls)} calls is over the "
            f"limit of {limit}: send smaller batches",
        )
    answers = await request.app.state.dispatcher.run(body.calls)
    return JSONResponse({"results": [{"status": s, **a} for s, a in answers]})
