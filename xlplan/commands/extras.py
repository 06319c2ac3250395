"""A clear message when a command needs an optional part of xlplan that is not installed.

The core install is what xlwings Lite (Pyodide) can load too; the web server
(``xlplan[server]``) and xlwings for the desktop route (``xlplan[desktop]``) are extras.
"""

import importlib.util

__all__ = ["require_extra"]


def require_extra(command, extra, *modules):
    """Stop ``xlplan command`` with install instructions if any of ``modules`` is missing."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise SystemExit(
            f"xlplan {command}: needs {', '.join(missing)}, which the "
            f"'{extra}' extra installs: pip install 'xlplan[{extra}]'"
        )
