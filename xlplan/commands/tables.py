"""``xlplan tables``: the paper's Tables 2 and 3 as xlplan computes them, beside the print."""

from ..engine.hardware import HARDWARE_PRESETS
from ..paper import _SUFFIX, TABLE2_COLUMNS, TABLE3_COLUMNS, table2, table3  # K M B T


def significant(cell, digits=3):
    """Our value to ``digits`` significant figures, in the printed cell's style (27.4T, 9.04%,
    2.65e20): the print's own precision can hide a difference ("27T" for 27.4T)."""
    text = cell.reference_text
    if cell.is_percent:
        return f"{100 * cell.computed:#.{digits}g}%"
    if text[-1] in _SUFFIX:
        return f"{cell.computed / _SUFFIX[text[-1]]:#.{digits}g}".rstrip(".") + text[-1]
    if "e" in text:
        return f"{cell.computed:.{digits - 1}e}".replace("e+", "e")
    return f"{cell.computed:#.{digits}g}".rstrip(".")


def _render(title, columns, rows):
    lines = [title, ""]
    header = f"{'':>4} " + " ".join(f"{c[:18]:>18}" for c in columns)
    lines.append(header)
    notes = []
    for number, row in enumerate(rows, start=1):
        printed = " ".join(f"{c.printed_text:>18}" for c in row)
        ours = " ".join(f"{('' if c.matches_print else '*') + significant(c):>18}" for c in row)
        deviation = " ".join(
            f"{(f'{c.deviation:+.2f} pt' if c.is_percent else f'{100 * c.deviation:+.2f}%'):>18}"
            for c in row
        )
        lines += [f"{number:>3}p {printed}", f"{'ours':>4} {ours}", f"{'dev':>4} {deviation}"]
        notes += [
            f"row {number}, {c.column}: {c.note} (compared with the corrected value)"
            for c in row
            if c.note
        ]
    worst = max(abs(c.deviation) for row in rows for c in row if not c.is_percent)
    worst_pt = max(abs(c.deviation) for row in rows for c in row if c.is_percent)
    differ = sum(not c.matches_print for row in rows for c in row)
    lines += [
        "",
        "'ours' to 3 significant figures; marked * where, rounded as printed, it "
        "differs from the print",
        f"cells that differ from the print in its last digit (marked *): {differ}",
        f"largest deviation: {100 * worst:.2f}% (amounts), {worst_pt:.2f} points (percentages)",
    ]
    lines += [f"note: {n}" for n in notes]
    return "\n".join(lines)


def run(args):
    print(
        _render(
            "Table 2: compute-optimal vs Chinchilla-style models (FLOPs), "
            "law 'chinchilla'\n'p' = printed in the paper, 'ours' = xlplan, "
            "'dev' = deviation",
            TABLE2_COLUMNS,
            table2(),
        )
    )
    for hardware in ("paper-a100", "paper-a100-table3"):
        print()
        print(
            _render(
                f"Table 3: cost-optimal vs Chinchilla-style models (US$), hardware "
                f"'{hardware}'\n  {HARDWARE_PRESETS[hardware].description}",
                TABLE3_COLUMNS,
                table3(hardware),
            )
        )
    return 0


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "tables",
        help="print the paper's Tables 2 and 3 recomputed, with deviations",
        description=__doc__,
    )
    parser.set_defaults(run=run)
