"""The documentation as one text: README.md (the quick start) and every page of docs/."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def text():
    """Every page, in order, joined by blank lines (str)."""
    return "\n\n".join(page.read_text(encoding="utf-8") for page in PAGES)
