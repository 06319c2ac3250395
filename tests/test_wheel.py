"""The wheel xlwings Lite installs: pure Python, and core dependencies Pyodide can provide.

Pyodide installs pure-Python wheels from PyPI (``micropip``) and compiled packages
only from its own distribution. xlplan's core dependencies must be in one of the two
lists below; the web server and xlwings itself are extras.
"""

import email
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from xlplan.cli import main

ROOT = Path(__file__).parent.parent
# Compiled packages in Pyodide's own distribution (pyodide.org, "Packages built in
# Pyodide"), by their PyPI names.
PYODIDE_PACKAGES = {"numpy", "scipy", "pandas", "pyyaml"}
# Pure-Python wheels on PyPI (py3-none-any): openpyxl and its et_xmlfile, tomli, defusedxml.
PURE_PYTHON = {"openpyxl", "et-xmlfile", "tomli", "defusedxml"}
BUILD_TIMEOUT = 300


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel ``pip wheel`` builds from a copy of the source (no build/ left behind)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "xlplan", source / "xlplan", ignore=shutil.ignore_patterns("__pycache__")
    )
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    (path,) = out.glob("*.whl")
    return path


def _metadata(wheel, name):
    with zipfile.ZipFile(wheel) as archive:
        (member,) = [m for m in archive.namelist() if m.endswith(f".dist-info/{name}")]
        return email.message_from_bytes(archive.read(member))


def _requirement_name(line):
    for stop in "<>=!~;[ ":
        line = line.split(stop)[0]
    return line.strip().lower().replace("_", "-")


def test_pure_python_wheel(wheel):
    assert wheel.name.endswith("-py3-none-any.whl")
    info = _metadata(wheel, "WHEEL")
    assert info["Root-Is-Purelib"] == "true"
    assert info.get_all("Tag") == ["py3-none-any"]
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert not [n for n in names if n.endswith((".so", ".pyd", ".dylib", ".dll"))]
    for needed in (
        "xlplan/lite.py",
        "xlplan/udfs.py",
        "xlplan/static/functions.js",
        "xlplan/data/paper_scenario.toml",
    ):
        assert needed in names


def test_core_dependencies_install_in_pyodide(wheel):
    requires = _metadata(wheel, "METADATA").get_all("Requires-Dist")
    core = {_requirement_name(r) for r in requires if "extra ==" not in r}
    assert core <= PYODIDE_PACKAGES | PURE_PYTHON, core - PYODIDE_PACKAGES - PURE_PYTHON
    assert {"numpy", "scipy", "openpyxl"} <= core

    def extra(name):
        return {_requirement_name(r) for r in requires if f'extra == "{name}"' in r}

    assert extra("server") == {"fastapi", "uvicorn"}
    assert extra("desktop") == {"xlwings"}


def test_import_needs_no_socket_subprocess_thread_or_outside_file():
    """Import xlplan.lite and call it with sockets, processes and threads refused."""
    code = textwrap.dedent("""
        import builtins, os, socket, subprocess, threading
        import numpy, scipy.optimize, pandas, xlwings  # third-party imports first
        import xlplan
        package = os.path.dirname(xlplan.__file__)
        def refuse(*args, **kwargs):
            raise RuntimeError("refused in Pyodide")
        socket.socket.connect = socket.create_connection = refuse
        subprocess.Popen.__init__ = os.fork = refuse
        threading.Thread.start = refuse
        real_open = builtins.open
        def package_open(path, *args, **kwargs):
            if not os.path.realpath(path).startswith(package):
                raise RuntimeError(f"opened {path}")
            return real_open(path, *args, **kwargs)
        builtins.open = package_open
        import xlplan.lite, xlplan.udfs
        print(xlplan.lite.OPT_PARAMS(2.1, 1e13)[0][0] > 0,
              xlplan.lite.COST_OPT(2.1, 1e9)[0][0] > 0)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]


def test_serve_without_the_server_extra_says_what_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a)
    )
    with pytest.raises(SystemExit) as stopped:
        main(["serve"])
    assert str(stopped.value) == (
        "xlplan serve: needs uvicorn, which the 'server' extra "
        "installs: pip install 'xlplan[server]'"
    )


def test_main_job_runs_without_the_extras(tmp_path):
    """The README's first command (`xlplan report`) needs no server or xlwings."""
    code = textwrap.dedent(f"""
        import sys
        for name in ("fastapi", "uvicorn", "starlette", "xlwings"):
            sys.modules[name] = None  # importing it now raises ImportError
        from xlplan.cli import main
        sys.exit(main(["report", "-q", "-o", {str(tmp_path / "report.xlsx")!r}]))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert zipfile.is_zipfile(tmp_path / "report.xlsx")
