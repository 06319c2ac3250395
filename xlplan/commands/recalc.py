"""``xlplan recalc IN.xlsx -o OUT.xlsx``: evaluate a workbook's formulas without Excel.

Both xlplan's functions and the plain Excel functions the templates use are
evaluated; results are written as cached values (spills to the right, as in
Excel), so pandas, LibreOffice or a phone viewer show the numbers. The input is
never overwritten. Exit code 1 when some cells hold Excel errors (listed on stderr).
"""

import re
import sys


def run(args):
    from ..workbook.recalc import parse_setting, recalc_file

    settings = [parse_setting(text) for text in args.set]
    evaluation = recalc_file(args.input, args.output, settings)
    formulas = len(evaluation.values)
    print(f"xlplan recalc: {formulas} cell(s) evaluated, written to {args.output}", file=sys.stderr)
    inputs = _typed_inputs(args.input, settings) if evaluation.errors else []
    print(error_summary(evaluation, inputs), end="", file=sys.stderr)
    return 1 if evaluation.errors else 0


def _typed_inputs(path, settings):
    """(reference, value, label) of each --set cell; the label is the nearest text to its
    left in the same row (None if there is none)."""
    from ..workbook.recalc import load

    workbook = load(path)
    inputs = []
    for sheet, coordinate, value in settings:
        ws = workbook[sheet]
        cell = ws[coordinate]
        texts = (ws.cell(cell.row, c).value for c in range(cell.column - 1, 0, -1))
        label = next((t for t in texts if isinstance(t, str) and not t.startswith("=")), None)
        quoted = f"'{sheet}'" if " " in sheet else sheet
        inputs.append((f"{quoted}!{coordinate}", value, label))
    return inputs


def _blamed(message, inputs):
    """The typed inputs whose value the message quotes (``name=-5``): the cause to fix."""
    found = []
    for reference, value, label in inputs:
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        if re.search(rf"=\s*'?{re.escape(shown)}(?![\d.])", message):
            found.append(
                f"    from your input {reference} = {shown}" + (f" ({label})" if label else "")
            )
    return found


def error_summary(evaluation, inputs=()):
    """The errors a person can act on: each root cause once (with the cells where it starts,
    and the typed input ``inputs`` it quotes, if any), then how many cells merely inherit
    them. Empty when there are no errors."""
    causes = {}  # (code, message) -> cells where it starts, in evaluation order
    for where, error in evaluation.root_errors:
        causes.setdefault((error.code, error.message), []).append(where)
    lines = []
    for (code, message), cells in causes.items():
        shown = ", ".join(cells[:_CELLS_SHOWN]) + (
            f" and {len(cells) - _CELLS_SHOWN} more" if len(cells) > _CELLS_SHOWN else ""
        )
        lines.append(f"  {code} {message}".rstrip() + f"\n    in {shown}")
        lines += _blamed(message, inputs)
    inherited = len(evaluation.inherited_errors)
    if inherited:
        lines.append(
            f"  {inherited} other cell(s) show these errors because they use the cells above"
        )
    return "".join(line + "\n" for line in lines)


_CELLS_SHOWN = 8  # cells listed per root cause; the rest are counted


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "recalc",
        help="evaluate a workbook's formulas without Excel and write the results",
        description=__doc__,
    )
    parser.add_argument("input", help="workbook to evaluate (.xlsx); never modified")
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        help="where to write the recalculated workbook (not the input)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="'SHEET!CELL=VALUE'",
        help="set an input cell first, e.g. --set 'Planner!B5=7e9' (repeatable)",
    )
    parser.set_defaults(run=run)
