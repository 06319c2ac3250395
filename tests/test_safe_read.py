"""The readers every CLI file goes through: regular files only, bounded, UTF-8, nesting."""

import os

import pytest

from xlplan.engine.errors import InvalidTypeError
from xlplan.shared import safe_parse
from xlplan.shared.safe_read import FileInputError, read_bytes, read_text

posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs and devices")


@posix_only
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / "pipe.toml")
    with pytest.raises(FileInputError, match=r"pipe.toml' is a pipe \(FIFO\)"):
        read_text(tmp_path / "pipe.toml", "scenario file")


@posix_only
def test_a_link_to_a_device_is_refused(tmp_path):
    os.symlink("/dev/zero", tmp_path / "law.json")
    with pytest.raises(FileInputError, match="is a device, not a regular file"):
        read_bytes(tmp_path / "law.json", "law file")


def test_size_limit_bom_and_encoding(tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"x" * 11)
    with pytest.raises(FileInputError, match="is 11 bytes; the limit is 10"):
        read_bytes(path, limit=10)
    path.write_bytes(b"\xef\xbb\xbfa = 1\n")
    assert read_text(path) == "a = 1\n"
    path.write_bytes(b"ok\nnot \xff utf-8\n")
    with pytest.raises(FileInputError, match=r"not UTF-8 text \(byte 0xff on line 2\)"):
        read_text(path, "scenario file")
    with pytest.raises(FileInputError, match="does not exist"):
        read_text(tmp_path / "absent.toml")


def test_nesting_is_bounded_in_every_format_and_parse_errors_are_type_errors(tmp_path):
    deep = safe_parse.MAX_NESTING + 1
    nested = "[" * deep + "]" * deep
    for parse, text in (
        (safe_parse.parse_json, nested),
        (safe_parse.parse_toml, f"a = {nested}"),
        (safe_parse.parse_yaml, f"a: {nested}"),
        (safe_parse.parse_toml, "a." + ".".join("b" * deep) + " = 1"),
    ):
        with pytest.raises(InvalidTypeError, match=f"more than {safe_parse.MAX_NESTING} levels"):
            parse(text, "file", tmp_path / "f")
    shallow = "[" * 5 + "]" * 5
    assert safe_parse.parse_json(shallow, "file", "f") == [[[[[]]]]]
    with pytest.raises(InvalidTypeError, match="uses an alias"):
        safe_parse.parse_yaml("a: &x 1\nb: *x\n", "file", "f")
    with pytest.raises(InvalidTypeError, match=r"has the key '1' \(int\)"):
        safe_parse.parse_yaml("a:\n  1: x\n", "file", "f")
