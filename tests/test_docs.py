"""The documentation site builds without a warning, and every example in it runs.

Examples are the ```python blocks of README.md and docs/*.md. A block written as a
doctest (``>>>`` lines followed by their output) is checked line by line; any other
block is executed. Blocks of one page share a namespace, in order, as a reader runs
them; they run in a temporary folder holding ``runs.csv`` (47 real training runs from
tests/data), so examples that read a runs file find one.
"""

import doctest
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def test_site_builds_with_warnings_as_errors(tmp_path):
    pytest.importorskip("mkdocstrings", reason="the docs extra is not installed")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "reference" / "engine" / "index.html").is_file()


EXAMPLES = {page: BLOCK.findall(page.read_text(encoding="utf-8")) for page in PAGES}


def test_the_quick_start_and_the_reference_have_examples():
    assert EXAMPLES[ROOT / "README.md"] and EXAMPLES[ROOT / "docs" / "engine.md"]


@pytest.mark.parametrize(
    "page", [p for p, b in EXAMPLES.items() if b], ids=lambda p: str(p.relative_to(ROOT))
)
def test_examples_run(page, tmp_path, monkeypatch):
    blocks = EXAMPLES[page]
    shutil.copy(ROOT / "tests" / "data" / "sardana_mpt_47runs.csv", tmp_path / "runs.csv")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=FLAGS)
    for number, block in enumerate(blocks, 1):
        if ">>>" in block:
            test = parser.get_doctest(block, namespace, f"{page.name} block {number}", str(page), 0)
            result = runner.run(test, clear_globs=False)
            assert result.failed == 0, f"{page.name} block {number}: see the output above"
        else:
            exec(compile(block, f"{page.name} block {number}", "exec"), namespace)
