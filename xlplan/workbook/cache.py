"""Write formula results into a saved .xlsx as cached values.

openpyxl writes a formula cell with an empty ``<v/>``, so a reader that does
not calculate (pandas, a phone viewer, Excel without the add-in, LibreOffice,
which keeps cached results of plain formulas) sees nothing. This module fills
those ``<v>`` elements in the sheet XML openpyxl wrote; numbers, text (``t="str"``),
booleans and error values (``t="e"``) as Excel stores them.
"""

import posixpath
import re
import zipfile
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from ..excel.cell_error import CellError

__all__ = ["write_cached_values"]

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# A formula cell exactly as openpyxl writes it: attributes, <f>, then an empty <v/>.
_FORMULA_CELL = re.compile(
    r'<c r="([A-Z]+[0-9]+)"([^>]*)><f([^>]*)>(.*?)</f><v\s*/></c>', re.DOTALL
)


def _sheet_parts(archive):
    """Sheet title -> path of its XML part inside the archive."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target") for rel in rels.iter(f"{_PKG}Relationship")}
    parts = {}
    for sheet in workbook.iter(f"{_MAIN}sheet"):
        target = targets[sheet.get(f"{_REL}id")]
        parts[sheet.get("name")] = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join("xl", target))
        )
    return parts


def _cached(value):
    """(type attribute, text of <v>) for a result value."""
    if isinstance(value, CellError):
        return ' t="e"', escape(value.code)
    if isinstance(value, bool):
        return ' t="b"', "1" if value else "0"
    if isinstance(value, (int, float)):
        return "", repr(float(value))
    return ' t="str"', escape("" if value is None else str(value))


def _fill(xml, values):
    def replace(match):
        ref, attributes, f_attributes, formula = match.groups()
        if ref not in values:
            return match.group(0)
        kind, text = _cached(values[ref])
        attributes = re.sub(r'\s+t="[^"]*"', "", attributes)
        return f'<c r="{ref}"{attributes}{kind}><f{f_attributes}>{formula}</f><v>{text}</v></c>'

    return _FORMULA_CELL.sub(replace, xml)


def write_cached_values(source, target, values_by_sheet):
    """Copy the .xlsx ``source`` to ``target`` with ``values_by_sheet[title][ref]`` cached."""
    with (
        zipfile.ZipFile(source) as archive,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        parts = {
            part: values_by_sheet.get(title, {}) for title, part in _sheet_parts(archive).items()
        }
        for item in archive.infolist():
            data = archive.read(item.filename)
            if parts.get(item.filename):
                data = _fill(data.decode("utf-8"), parts[item.filename]).encode("utf-8")
            out.writestr(item, data)
