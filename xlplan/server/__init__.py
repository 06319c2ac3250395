"""``xlplan serve``: an Office add-in (custom functions) served by FastAPI under uvicorn.

:func:`~xlplan.server.app.create_app` builds the app from one
:class:`~xlplan.server.settings.Settings`; the routes call the functions of
:mod:`xlplan.udfs` and nothing else.
"""
