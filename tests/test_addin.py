"""``xlplan addin``: the xlwings config it writes, what it keeps, and the UDF metadata."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import xlwings
import xlwings.utils

from xlplan.cli import main
from xlplan.commands import addin
from xlplan.udfs import FUNCTIONS

PYTHON = os.path.abspath(sys.executable)
KEY = addin.interpreter_key()
OURS = ['"UDF MODULES","xlplan.udfs"', f'"{KEY}","{PYTHON}"']


def _run(capsys, config, *options):
    code = main(["addin", "--config", str(config), *options])
    out, err = capsys.readouterr()
    return code, out, err


def _lines(path):
    return path.read_text(encoding=addin._encoding()).splitlines()


def test_fresh_file_in_a_new_folder(tmp_path, capsys):
    config = tmp_path / ".xlwings" / "xlwings.conf"
    code, out, err = _run(capsys, config)
    assert (code, err) == (0, "")
    assert _lines(config) == OURS
    assert f"wrote {config}" in out
    for step in (
        "xlwings addin install",
        "Trust access to the VBA project object model",
        "Import Functions",
        "=OPT_PARAMS(2.1, 1E12)",
        "xlplan serve",
    ):
        assert step in out
    assert os.listdir(config.parent) == ["xlwings.conf"]


def test_xlwings_own_reader_sees_the_settings_in_the_default_file(tmp_path, capsys, monkeypatch):
    config = tmp_path / "home" / ".xlwings" / "xlwings.conf"
    monkeypatch.setattr(xlwings, "USER_CONFIG_FILE", str(config))
    assert main(["addin"]) == 0
    assert xlwings.utils.read_user_config() == {"udf modules": "xlplan.udfs", KEY.lower(): PYTHON}


def test_other_settings_are_kept_verbatim_and_in_order(tmp_path, capsys):
    config = tmp_path / "xlwings.conf"
    kept = [
        '"LICENSE_KEY","abc-123"',
        '"PYTHONPATH","C:\\code,D:\\more"',
        ' "SHOW CONSOLE" , "False" ',
        '"INTERPRETER","pythonw"',
    ]
    config.write_text(
        "\n".join(kept[:2] + ["", kept[2], kept[3]]) + "\n", encoding=addin._encoding()
    )
    code, out, _ = _run(capsys, config)
    assert code == 0
    assert _lines(config) == kept + OURS  # the blank line goes, as with xlwings' own writer
    assert "(4 other setting(s) kept)" in out


def test_an_existing_interpreter_key_is_replaced_where_it_stands(tmp_path, capsys):
    config = tmp_path / "xlwings.conf"
    config.write_text(
        f'"{KEY.lower()}","C:\\old\\python.exe"\n"LICENSE_KEY","abc"\n', encoding=addin._encoding()
    )
    assert _run(capsys, config)[0] == 0
    assert _lines(config) == [OURS[1], '"LICENSE_KEY","abc"', OURS[0]]


@pytest.mark.parametrize(
    "before, after",
    [
        ("mymodule", "mymodule;xlplan.udfs"),
        ("mymodule; other ;", "mymodule;other;xlplan.udfs"),
        ("a;xlplan.udfs;b", "a;xlplan.udfs;b"),
        ("xlplan.udfs;xlplan.udfs", "xlplan.udfs"),
        ("", "xlplan.udfs"),
    ],
)
def test_udf_modules_list_gains_ours_once(tmp_path, capsys, before, after):
    config = tmp_path / "xlwings.conf"
    config.write_text(f'"UDF MODULES","{before}"\n', encoding=addin._encoding())
    assert _run(capsys, config)[0] == 0
    assert _lines(config) == [f'"UDF MODULES","{after}"', OURS[1]]


def test_repeated_and_lower_case_udf_modules_lines_merge_into_one(tmp_path, capsys):
    config = tmp_path / "xlwings.conf"
    config.write_text(
        '"udf modules","one"\n"LICENSE_KEY","k"\n"UDF MODULES","two;one"\n',
        encoding=addin._encoding(),
    )
    assert _run(capsys, config)[0] == 0
    assert _lines(config) == ['"UDF MODULES","one;two;xlplan.udfs"', '"LICENSE_KEY","k"', OURS[1]]


def test_second_run_changes_nothing(tmp_path, capsys):
    config = tmp_path / "xlwings.conf"
    config.write_text('"LICENSE_KEY","abc"\n"UDF MODULES","mine"\n', encoding=addin._encoding())
    assert _run(capsys, config)[0] == 0
    first = config.read_bytes()
    stamp = config.stat().st_mtime_ns
    code, out, _ = _run(capsys, config)
    assert code == 0
    assert config.read_bytes() == first
    assert config.stat().st_mtime_ns == stamp
    assert "nothing to change" in out


def test_dry_run_prints_the_file_and_writes_nothing(tmp_path, capsys):
    fresh = tmp_path / "new" / "xlwings.conf"
    code, out, _ = _run(capsys, fresh, "--dry-run")
    assert code == 0
    assert not fresh.parent.exists()
    assert "dry run, nothing written" in out
    assert all(f"  {line}\n" in out for line in OURS)

    config = tmp_path / "xlwings.conf"
    config.write_bytes(b'"LICENSE_KEY","abc"\n')
    code, out, _ = _run(capsys, config, "--dry-run")
    assert code == 0
    assert config.read_bytes() == b'"LICENSE_KEY","abc"\n'
    assert '  "LICENSE_KEY","abc"\n' in out
    assert os.listdir(tmp_path) == ["xlwings.conf"]


def test_interpreter_option_is_written_as_an_absolute_path(tmp_path, capsys, monkeypatch):
    python = tmp_path / "venv" / "python.exe"
    python.parent.mkdir()
    python.write_text("")
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "xlwings.conf"
    assert _run(capsys, config, "--interpreter", os.path.join("venv", "python.exe"))[0] == 0
    assert _lines(config)[1] == f'"{KEY}","{python}"'


@pytest.mark.parametrize("name", ["missing.exe", 'py"thon'])
def test_bad_interpreter_is_refused_before_writing(tmp_path, capsys, name):
    if '"' in name:
        if sys.platform.startswith("win"):
            pytest.skip("Windows file names cannot hold quotes")
        (tmp_path / name).write_text("")
    config = tmp_path / "xlwings.conf"
    code, _out, err = _run(capsys, config, "--interpreter", str(tmp_path / name))
    assert code == 2
    assert err.startswith("xlplan addin: error: --interpreter ") and err.count("\n") == 1
    assert not config.exists()


@pytest.mark.parametrize(
    "content, line",
    [
        (b'"LICENSE_KEY","abc"\nUDF MODULES=mymodule\n', 2),
        (b'"UDF MODULES"\n"LICENSE_KEY","abc"\n', 1),  # xlwings' own reader fails on this one
        (b'"A","1","B"\n', 1),
        (b'"PYTHONPATH","C:\\x"y"\n', 1),
    ],
)
def test_malformed_file_is_left_untouched(tmp_path, capsys, content, line):
    config = tmp_path / "xlwings.conf"
    config.write_bytes(content)
    code, out, err = _run(capsys, config)
    assert code == 2
    assert err.startswith(
        f"xlplan addin: error: the xlwings config {config} is malformed at line {line} ("
    )
    assert err.count("\n") == 1 and "left unchanged" in err
    assert out == ""
    assert config.read_bytes() == content
    assert os.listdir(tmp_path) == ["xlwings.conf"]


def test_a_folder_in_place_of_the_file_is_a_one_line_error(tmp_path, capsys):
    config = tmp_path / "xlwings.conf"
    config.mkdir()
    code, _, err = _run(capsys, config)
    assert code == 2
    assert err.startswith(f"xlplan addin: error: xlwings config '{config}' is a folder")
    assert err.count("\n") == 1


def test_failed_write_leaves_no_temp_file_and_the_old_file(tmp_path, capsys, monkeypatch):
    config = tmp_path / "xlwings.conf"
    config.write_bytes(b'"LICENSE_KEY","abc"\n')

    def refuse(source, target):
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(addin.os, "replace", refuse)
    code, _, err = _run(capsys, config)
    assert code == 1 and "Permission denied" in err
    assert config.read_bytes() == b'"LICENSE_KEY","abc"\n'
    assert os.listdir(tmp_path) == ["xlwings.conf"]


@pytest.mark.skipif(sys.platform.startswith("win"), reason="POSIX permissions")
def test_existing_file_keeps_its_permissions(tmp_path, capsys):
    config = tmp_path / "xlwings.conf"
    config.write_text('"LICENSE_KEY","abc"\n')
    config.chmod(0o640)
    assert _run(capsys, config)[0] == 0
    assert config.stat().st_mode & 0o777 == 0o640


def test_mac_gets_its_own_key_and_is_sent_to_the_office_add_in():
    assert addin.interpreter_key("darwin") == "INTERPRETER_MAC"
    assert addin.interpreter_key("win32") == "INTERPRETER_WIN"
    mac = addin.next_steps("darwin")
    assert "only in Excel for Windows" in mac and "xlplan serve" in mac
    assert "xlwings addin install" not in mac
    assert "xlwings addin install" in addin.next_steps("win32")


# xlwings stores the UDF description on the function (``__xlfunc__``) only where its
# UDFs exist, Windows with pywin32; elsewhere ``xw.func`` and ``xw.arg`` do nothing.
# So a child process runs xlwings' real Windows decorators (which never touch pywin32;
# its modules are placeholders there off Windows), imports xlplan.udfs, and also
# generates the VBA module "Import Functions" would put into the workbook.
PROBE = textwrap.dedent("""
    import io, json, sys, types
    if not sys.platform.startswith("win"):
        for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
            sys.modules[name] = types.ModuleType(name)
        sys.modules["pythoncom"].CoInitialize = lambda: None
        sys.modules["pywintypes"].com_error = Exception
        sys.modules["win32com.client"].Dispatch = None
    import xlwings, xlwings.udfs
    xlwings.func, xlwings.arg = xlwings.udfs.xlfunc, xlwings.udfs.xlarg
    from xlplan import udfs

    class Workbook:
        Name = "Planner.xlsm"

    vba = io.StringIO()
    xlwings.udfs.generate_vba_wrapper("xlplan.udfs", udfs, vba, Workbook())
    meta = {name: getattr(udfs, name).__xlfunc__ for name in udfs.FUNCTIONS}
    for info in meta.values():
        del info["argmap"]
    print(json.dumps({"meta": meta, "vba": vba.getvalue()}))
""")


@pytest.fixture(scope="module")
def xlwings_view():
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_function_carries_the_metadata_import_functions_reads(xlwings_view):
    meta = xlwings_view["meta"]
    assert sorted(meta) == sorted(FUNCTIONS) and len(meta) == len(FUNCTIONS)
    for name, spec in FUNCTIONS.items():
        info = meta[name]
        assert (info["name"], info["sub"], info["category"]) == (name, False, "xlplan")
        assert info["ret"]["doc"] == spec.description
        assert [a["name"] for a in info["args"]] == [p.name for p in spec.params]
        for arg, param in zip(info["args"], spec.params, strict=True):
            assert arg["doc"] == param.help
            assert arg["options"] == ({"ndim": 2} if param.range else {}), (name, param.name)
            assert ("optional" in arg) == param.optional, (name, param.name)
        # Excel's function wizard takes at most 255 characters; xlwings cuts the rest
        assert max(len(spec.description), *(len(p.help) for p in spec.params)) <= 255


def test_the_generated_vba_declares_each_function_with_its_arguments(xlwings_view):
    vba = xlwings_view["vba"]
    for name, spec in FUNCTIONS.items():
        args = ", ".join(("Optional " if p.optional else "") + p.name for p in spec.params)
        assert f"Function {name}({args})\n" in vba
        names = ", ".join(p.name for p in spec.params)
        assert f'XLPy.CallUDF("xlplan.udfs", "{name}", Array({names})' in vba


@pytest.mark.skipif(sys.platform.startswith("win"), reason="POSIX permissions")
def test_a_new_config_is_created_with_its_folder_and_is_private(tmp_path, capsys):
    """The config may hold a licence key: a new one is owner-only, whatever the umask."""
    config = tmp_path / "new" / "xlwings.conf"
    old_umask = os.umask(0o022)
    try:
        assert _run(capsys, config)[0] == 0
    finally:
        os.umask(old_umask)
    assert config.stat().st_mode & 0o777 == 0o600
    assert os.listdir(config.parent) == ["xlwings.conf"]
