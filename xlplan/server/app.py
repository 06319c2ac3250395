"""The FastAPI app of ``xlplan serve``: routes (:mod:`.routes`) behind the request rules.

Every request passes, outermost first, :class:`~xlplan.server.guard.RequestGuard`
(Host, Origin, Content-Type), :class:`~xlplan.server.security.TokenGate` (in token
mode) and :class:`~xlplan.server.security.BodyLimit` (body size and time) before a
route sees it. The app's state holds the settings, the
:class:`~xlplan.server.dispatch.Dispatcher` that runs calls, and its worker pool
(``app.state.pool``), which the runner stops at the first signal.
"""

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from .. import __version__
from .calls import CallFailure
from .dispatch import Dispatcher
from .guard import RequestGuard
from .routes import router
from .security import BodyLimit, TokenGate
from .settings import Settings

__all__ = ["create_app"]


@asynccontextmanager
async def _lifespan(app):
    app.state.pool.start()
    yield
    await app.state.pool.close()


async def _failed(request, failure):
    status, body = failure.outcome()
    return JSONResponse(body, status_code=status)


def create_app(settings=None):
    """The ASGI app for ``settings`` (:class:`~xlplan.server.settings.Settings`)."""
    settings = settings or Settings()
    app = FastAPI(
        title="xlplan",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.dispatcher = Dispatcher(settings)
    app.state.pool = app.state.dispatcher.slow
    app.add_exception_handler(CallFailure, _failed)
    app.include_router(router)
    # The last added runs first: the guard, then the token, then the body.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, timeout=settings.read_timeout)
    if settings.token:
        app.add_middleware(TokenGate, token=settings.token)
    app.add_middleware(RequestGuard, settings=settings)
    return app
