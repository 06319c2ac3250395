"""Every CLI command over a corpus of hostile files (issue 22, "CLI and files").

Each case must end with exit status 2, exactly one line on stderr, no traceback,
within a generous time limit, with no new file in the output folder and every
input file as it was. The corpus runs in one process (tests/cli_driver.py), since
starting Python per case would cost minutes; a few cases that are about the
process itself (a FIFO, SIGTERM during a write) run as real ``python -m xlplan``.
"""

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parents[1]
DRIVER = Path(__file__).with_name("cli_driver.py")
RUNS = ROOT / "tests" / "data" / "sardana_mpt_47runs.csv"
CASE_SECONDS = 60  # per case; each takes well under a second on an idle machine
posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs, devices and signals")
pytestmark = posix_only


def _env():
    """The environment for child processes: this checkout's xlplan, whatever is installed."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }


# Contents every text input gets tried with, whatever its format.
TEXT_JUNK = {
    "empty": b"",
    "bom-only": b"\xef\xbb\xbf",
    "nul-bytes": b"\x00" * 1000,
    "latin1": b"caf\xe9 = 1\n",
    "binary": bytes(range(256)) * 64,
    "huge-line": b"a" * (5 * 1024 * 1024),
}
# Contents specific to a format: nesting, huge numbers, YAML tags and aliases.
BY_FORMAT = {
    ".json": {
        "deep": "[" * 5000 + "]" * 5000,
        "bigint": '{"A": ' + "9" * 5000 + "}",
        "yaml-text": "A: 1\nB: 2\n",
        "denormal-coefficient": '{"A": 1e-320, "B": 410.7, "E": 1.69, "alpha": 0.34, "beta": 0.28}',
    },
    ".toml": {
        "deep": "law = " + "[" * 5000 + "]" * 5000,
        "dotted": "title." + ".".join(["a"] * 500) + " = 1",
        "bigint": "input_tokens = " + "9" * 5000,
        "yaml-text": "title: x\nlaw: y\n",
        "10k-scenarios": "[[scenarios]]\nloss = 2.1\nrequests = 1e9\n" * 10_000,
    },
    ".yaml": {
        "deep-flow": "law: " + "[" * 5000 + "]" * 5000,
        "deep-block": "".join(" " * i + "k:\n" for i in range(300)),
        "bigint": "input_tokens: " + "9" * 5000,
        "python-tag": "title: !!python/object/apply:os.system ['echo pwned']\n",
        "toml-text": "[hardware]\ntrain_mfu = 0.4\n",
        "number-key": "1: 2\ntitle: x\n",
        "boolean-key": "true: 1\n",
        "alias-bomb": "a: &a [x, x, x, x, x, x, x, x, x]\n"
        "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\ntitle: *b\n",
    },
    ".csv": {
        "bigint": "params,tokens,loss\n" + "9" * 5000 + ",1e9,2.0\n",
        "150k-rows": "params,tokens,loss\n" + "1e9,2e10,2.5\n" * 150_000,
        "all-1e308": "params,tokens,loss\n"
        + "".join(f"1e308,{2e9 * 2**k},{3.4 - k / 9}\n" for k in range(8)),
    },
    ".conf": {},
}


def _special(folder, name):
    """Paths that are not regular files: a folder, a FIFO, a link to /dev/zero, a missing file."""
    stem, suffix = name.rsplit(".", 1)
    made = {}
    (folder / f"{stem}-dir.{suffix}").mkdir()
    made["folder"] = folder / f"{stem}-dir.{suffix}"
    os.mkfifo(folder / f"{stem}-fifo.{suffix}")
    made["fifo"] = folder / f"{stem}-fifo.{suffix}"
    os.symlink("/dev/zero", folder / f"{stem}-zero.{suffix}")
    made["dev-zero-link"] = folder / f"{stem}-zero.{suffix}"
    made["missing"] = folder / f"{stem}-missing.{suffix}"
    if os.geteuid() != 0:  # root reads any file, so this case means nothing as root
        locked = folder / f"{stem}-locked.{suffix}"
        locked.write_text("x")
        locked.chmod(0)
        made["permission-denied"] = locked
    return made


def _text_inputs(folder, suffix):
    """(case name, path) of every hostile text file with this suffix."""
    paths = {}
    for kind, data in TEXT_JUNK.items():
        paths[kind] = folder / f"{kind}{suffix}"
        paths[kind].write_bytes(data)
    for kind, text in BY_FORMAT[suffix].items():
        paths[kind] = folder / f"{kind}-format{suffix}"
        paths[kind].write_text(text)
    paths.update(_special(folder, f"special{suffix}"))
    return paths


def _base_xlsx(path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "S"
    workbook.active["A1"], workbook.active["A2"] = "text", "=1+1"
    workbook.save(path)
    return path


def _with_part(base, path, part, data):
    """A copy of the workbook ``base`` with ``part`` replaced (or added)."""
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            if item.filename != part:
                out.writestr(item, source.read(item.filename))
        with out.open(part, "w") as handle:
            if isinstance(data, bytes):
                handle.write(data)
            else:  # an iterable of chunks: a large part never held whole in memory
                for chunk in data:
                    handle.write(chunk)
    return path


_LOL = ["&lol;" * 10] + [f"&lol{k};" * 10 for k in range(1, 9)]  # each level 10x the last
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{k} "{_LOL[k - 1]}">' for k in range(1, 10))
    + ']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    "</sheetData></worksheet>"
).encode()
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&x;'
    b"</workbook>"
)


def _xlsx_inputs(folder):
    base = _base_xlsx(folder / "base-good.xlsx")
    paths = {"not-a-zip": folder / "not-zip.xlsx", "empty": folder / "empty.xlsx"}
    paths["not-a-zip"].write_bytes(b"PK\x03\x04 this is not a zip")
    paths["empty"].write_bytes(b"")
    paths["broken-xml"] = _with_part(base, folder / "broken.xlsx", "xl/workbook.xml", b"<workbook")
    paths["xxe"] = _with_part(base, folder / "xxe.xlsx", "xl/workbook.xml", XXE)
    paths["billion-laughs"] = _with_part(
        base, folder / "laughs.xlsx", "xl/worksheets/sheet1.xml", LAUGHS
    )
    # 100 MB of shared strings that deflate to about 100 kB.
    chunk = b"<si><t>aaaaaaaaaaaaaaaa</t></si>" * 32_768
    paths["zip-bomb"] = _with_part(
        base, folder / "bomb.xlsx", "xl/sharedStrings.xml", (chunk for _ in range(100))
    )
    paths["wrong-extension"] = folder / "workbook.csv"
    paths["wrong-extension"].write_bytes(base.read_bytes())
    paths.update(_special(folder, "special.xlsx"))
    return paths


def _recalc_formulas(folder):
    """Workbooks whose formulas are hostile: deep parentheses, 10,000 signs."""
    paths = {}
    for kind, formula in (
        ("deep-parentheses", "=" + "(" * 3000 + "1" + ")" * 3000),
        ("unary-minus", "=" + "-" * 10_000 + "1"),
        ("deep-functions", "=" + "ABS(" * 500 + "1" + ")" * 500),
        ("index-of-huge-range", "=INDEX(C1:Z300000, 2)"),
        ("spill-of-huge-range", "=C1:Z300000"),
        ("if-without-arguments", "=IF()+IFERROR(1)"),
    ):
        workbook = openpyxl.Workbook()
        workbook.active.title = "S"
        workbook.active["B2"] = formula
        workbook.save(folder / f"{kind}.xlsx")
        paths[kind] = folder / f"{kind}.xlsx"
    return paths


def _corpus(tmp_path):
    """(case id, argv) of every hostile case; outputs all go to tmp_path/out."""
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    out.mkdir()
    report = ["-o", str(out / "report.xlsx"), "-q"]
    cases = []
    for kind, path in _text_inputs(inputs, ".json").items():
        cases.append((f"report --law {kind}", ["report", "--law", str(path), *report]))
    for suffix in (".toml", ".yaml"):
        for kind, path in _text_inputs(inputs, suffix).items():
            cases.append(
                (f"report --scenario {kind}{suffix}", ["report", "--scenario", str(path), *report])
            )
    csv = _text_inputs(inputs, ".csv")
    for kind, path in csv.items():
        cases.append((f"fit {kind}.csv", ["fit", str(path), "--output", str(out / "law.json")]))
    for kind in ("latin1", "fifo", "dev-zero-link", "all-1e308"):  # through a scenario
        if kind in csv:
            scenario = inputs / f"runs-{kind}.toml"
            scenario.write_text(
                f'runs = "{csv[kind].name}"\n[[scenarios]]\nloss = 2.0\nrequests = 1e9\n'
            )
            cases.append(
                (f"report scenario runs={kind}", ["report", "--scenario", str(scenario), *report])
            )
    for kind, path in _text_inputs(inputs, ".conf").items():
        if kind in ("empty", "bom-only", "missing"):
            continue  # an empty or missing config is fine: addin writes a new one
        cases.append((f"addin --config {kind}", ["addin", "--config", str(path)]))
    for kind, path in _xlsx_inputs(inputs).items():
        cases.append((f"recalc {kind}", ["recalc", str(path), "-o", str(out / "o.xlsx")]))
        cases.append((f"fit {kind}.xlsx", ["fit", str(path)]))
    for kind, path in _recalc_formulas(inputs).items():
        cases.append((f"recalc {kind}", ["recalc", str(path), "-o", str(out / "o.xlsx")]))
    good = str(inputs / "base-good.xlsx")
    for setting in ("S!A0=1", "S!A1048577=1", "S!XFE1=1", "S!A99999999999999999999=1"):
        cases.append(
            (
                f"recalc --set {setting}",
                ["recalc", good, "-o", str(out / "o.xlsx"), "--set", setting],
            )
        )
    pipe = _special(inputs, "output.xlsx")["fifo"]  # an output os.replace must not replace
    cases += [
        ("recalc -o fifo", ["recalc", good, "-o", str(pipe)]),
        ("report -o fifo", ["report", "-o", str(pipe), "-q"]),
    ]
    cases += [
        ("fit --seed -1", ["fit", str(RUNS), "--seed", "-1", "--bootstrap", "5"]),
        ("fit --bootstrap 10**12", ["fit", str(RUNS), "--bootstrap", str(10**12)]),
    ]
    for kind, path in _special(inputs, "cert.pem").items():
        cases.append((f"serve --certfile {kind}", ["serve", "--certfile", str(path)]))
    huge = inputs / "huge-cert.pem"
    with open(huge, "wb") as handle:
        handle.truncate(64 * 1024 * 1024)  # sparse: no disk space taken
    cases.append(("serve --certfile huge", ["serve", "--certfile", str(huge)]))
    cases.append(
        (
            "workbooks build -d fifo",
            ["workbooks", "build", "-d", str(_special(inputs, "d.dir")["fifo"])],
        )
    )
    return cases


def _fingerprint(folder):
    """Name -> hash of every regular file under ``folder`` (pipes and devices skipped)."""
    prints = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and os.access(path, os.R_OK):
            prints[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return prints


def test_every_command_refuses_every_hostile_file_in_one_line(tmp_path):
    cases = _corpus(tmp_path)
    before = _fingerprint(tmp_path / "in")
    request = {
        "folder": str(tmp_path / "out"),
        "seconds": CASE_SECONDS,
        "cases": [{"id": name, "argv": argv} for name, argv in cases],
    }
    done = subprocess.run(
        [sys.executable, str(DRIVER)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        env=_env(),
        cwd=tmp_path,
        timeout=CASE_SECONDS * 4 + 2 * len(cases),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)
    assert len(results) == len(cases) >= 100
    failures = []
    for result in results:
        lines = result["stderr"].splitlines()
        if (
            result["status"] != 2
            or result["problem"]
            or len(lines) != 1
            or "Traceback" in result["stderr"]
            or result["new_files"]
            or result["seconds"] > CASE_SECONDS
        ):
            failures.append({k: (v[-600:] if isinstance(v, str) else v) for k, v in result.items()})
    assert not failures, json.dumps(failures, indent=1)
    assert _fingerprint(tmp_path / "in") == before  # nothing the user gave was touched
    assert (tmp_path / "in" / "output-fifo.xlsx").is_fifo()
    assert not list((tmp_path / "out").iterdir())


def _xlplan(*args, cwd, timeout=CASE_SECONDS):
    return subprocess.run(
        [sys.executable, "-m", "xlplan", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
    )


def test_a_fifo_scenario_is_refused_by_a_real_process(tmp_path):
    fifo = tmp_path / "plan.toml"
    os.mkfifo(fifo)  # no writer ever comes: a blocking open would wait forever
    done = _xlplan("report", "--scenario", fifo, "-o", tmp_path / "r.xlsx", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"xlplan report: error: scenario file '{fifo}' is a pipe (FIFO), not a regular file"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.toml"]


# Sends SIGTERM to its own process in the middle of writing the output: the moment
# the temporary file exists, so the test needs no timing.
_TERMINATED_MID_WRITE = """
import os, signal, sys
import xlplan.workbook.recalc as recalc
from xlplan.cli import main

real = recalc.write_cached_values

def write_then_stop(source, target, values):
    real(source, target, values)
    os.kill(os.getpid(), signal.SIGTERM)

recalc.write_cached_values = write_then_stop
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_during_a_write_leaves_no_temporary_file(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    source = _base_xlsx(tmp_path / "in.xlsx")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _TERMINATED_MID_WRITE,
            "recalc",
            str(source),
            "-o",
            str(out / "o.xlsx"),
        ],
        capture_output=True,
        text=True,
        timeout=CASE_SECONDS,
        env=_env(),
        cwd=tmp_path,
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr.splitlines() == ["xlplan recalc: stopped (SIGTERM)"]
    assert list(out.iterdir()) == []


def _recalc_workbook(folder, cells):
    workbook = openpyxl.Workbook()
    workbook.active.title = "S"
    for ref, value in cells.items():
        workbook.active[ref] = value
    return workbook


def test_recalc_evaluates_long_chains_and_huge_ranges_in_bounded_time(tmp_path):
    cells = {f"A{i}": f"=A{i + 1}+1" for i in range(1, 5000)} | {"A5000": 1}
    cells |= {
        "B1": "=SUM(C2:XFD1048576)",
        "C7": 4,
        "D9": "=A4999*2",
        "B2": "=SUM(B3:Z300000)",
        "Z299999": 5,
        "B3": "=" + "+".join(["1"] * 3000),
    }
    _recalc_workbook(tmp_path, cells).save(tmp_path / "in.xlsx")
    done = _xlplan("recalc", "in.xlsx", "-o", "out.xlsx", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    values = openpyxl.load_workbook(tmp_path / "out.xlsx", data_only=True)["S"]
    assert values["A1"].value == 5000
    assert values["B1"].value == 4 + 4 + 5  # C7, D9 and Z299999
    assert values["B2"].value == 3000 + 4 + 4 + 5  # B3, C7, D9 and Z299999
    assert values["B3"].value == 3000


def test_a_workbook_that_reads_too_many_cells_is_refused(tmp_path, monkeypatch):
    from xlplan.workbook import evaluate
    from xlplan.workbook.recalc import WorkbookError, recalc_file

    monkeypatch.setattr(evaluate, "MAX_CELL_READS", 5_000)
    cells = {f"A{i}": i for i in range(1, 201)}
    cells |= {f"B{i}": f"=SUM(A1:A{i})" for i in range(1, 201)}  # 20,100 reads in all
    _recalc_workbook(tmp_path, cells).save(tmp_path / "in.xlsx")
    with pytest.raises(WorkbookError, match="read more than 5,000 cells"):
        recalc_file(tmp_path / "in.xlsx", tmp_path / "out.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.xlsx"]
