"""LibreOffice (soffice) and pdftoppm helpers for the workbook tests; skip when absent."""

import csv
import shutil
import subprocess
from pathlib import Path

import pytest

SOFFICE = shutil.which("soffice")
PDFTOPPM = shutil.which("pdftoppm")
needs_soffice = pytest.mark.skipif(
    SOFFICE is None,
    reason="LibreOffice (soffice) not installed: apt-get install libreoffice-calc-nogui",
)
needs_pdftoppm = pytest.mark.skipif(
    PDFTOPPM is None, reason="pdftoppm not installed: apt-get install poppler-utils"
)


def convert(path, fmt, outdir):
    """Convert with headless LibreOffice; returns the output path (fails the test on error)."""
    outdir = Path(outdir)
    profile = outdir / "lo-profile"
    result = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    out = outdir / (Path(path).stem + "." + fmt.split(":")[0])
    assert result.returncode == 0 and out.exists(), result.stderr + result.stdout
    return out


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))
