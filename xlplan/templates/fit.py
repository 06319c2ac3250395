"""``fit_coefficients.xlsx``: paste your runs, fit the law, size a model with it.

``FIT_COEFFS`` over the runs range gives A, B, E, alpha, beta (one cell each,
through ``INDEX``); that 1x5 range is the ``law`` argument of ``OPT_PARAMS``
and ``COST_OPT`` on the same sheet. The example runs are computed from the
``chinchilla`` law, so the fit returns its coefficients: replace them with yours.
"""

import openpyxl

from ..engine.constants import DEFAULT_HARDWARE, DEFAULT_INPUT_TOKENS, DEFAULT_OUTPUT_TOKENS
from ..engine.hardware import HARDWARE_PRESETS
from ..engine.laws import COEFFICIENT_NAMES, get_law
from ..shared.styles import header_row, note, put, set_widths, title
from .checks import add_checks, fit_checks
from .inputs import NON_NEGATIVE, POSITIVE, name_inputs, number_rule
from .presets import dropdown

__all__ = ["build", "FILENAME", "example_runs", "RUNS_FIRST_ROW", "RUNS_LAST_ROW"]

FILENAME = "fit_coefficients.xlsx"
SHEET = "Fit"
RUNS_HEADER = 6
RUNS_FIRST_ROW = RUNS_HEADER + 1
RUNS_LAST_ROW = 206  # room for 200 runs; blank rows are skipped by FIT_COEFFS
RUNS = f"$A${RUNS_HEADER}:$C${RUNS_LAST_ROW}"
LAW = "$F$7:$J$7"
EXAMPLE_SIZES = (7e7, 1.5e8, 3e8, 6e8, 1.2e9, 2.5e9)
EXAMPLE_TOKENS_PER_PARAM = (5, 10, 20, 40, 80)
COEFFICIENT_FORMATS = ("ratio", "ratio", "loss", "loss", "loss")
# The cost-optimal rows price the default per-request tokens on the hardware preset in G13.
HARDWARE_CELL = "G13"
PER_REQUEST = f"{DEFAULT_INPUT_TOKENS:g},{DEFAULT_OUTPUT_TOKENS:g},$G$13"


def example_runs():
    """(params, tokens, loss) rows computed from the ``chinchilla`` law."""
    law = get_law("chinchilla")
    return [
        (n, n * ratio, float(law.loss(n, n * ratio)))
        for n in EXAMPLE_SIZES
        for ratio in EXAMPLE_TOKENS_PER_PARAM
    ]


def build():
    """The workbook (formulas only; :mod:`.build` adds the cached results)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    title(
        ws,
        "Fit the loss law L(N, D) = E + A/N^alpha + B/D^beta to your own training runs",
        "Paste your runs (parameters, training tokens, final loss) into the yellow columns "
        "A to C, up to row 206; the fitted law feeds the sizing on the right.",
    )
    note(
        ws,
        "A3",
        "The example runs are computed from the 'chinchilla' law, so the fit "
        "returns its coefficients (A=406.4, B=410.7, E=1.69, alpha=0.336, beta=0.283).",
    )
    header_row(ws, RUNS_HEADER, 1, ["params", "tokens", "loss"], align="right")
    for offset, run in enumerate(example_runs()):
        for letter, value, fmt in zip("ABC", run, ("count", "count", "loss"), strict=True):
            put(ws, f"{letter}{RUNS_FIRST_ROW + offset}", value, "input", fmt)
    header_row(ws, 6, 6, COEFFICIENT_NAMES, align="right")  # over their numbers
    for k, fmt in enumerate(COEFFICIENT_FORMATS):
        put(ws, f"{'FGHIJ'[k]}7", f"=INDEX(FIT_COEFFS({RUNS}),1,{k + 1})", "result", fmt)
    ws["E7"] = "Fitted law"
    rows = (
        ("Target loss (nats/token)", "G10", 2.1, "input", "loss"),
        ("Lifetime inference tokens", "G11", 1e12, "input", "count"),
        ("Lifetime requests", "G12", 1e9, "input", "count"),
        ("Hardware preset (pick from the list)", HARDWARE_CELL, DEFAULT_HARDWARE, "input", "plain"),
        (
            "Compute-optimal params",
            "G14",
            f"=INDEX(OPT_PARAMS(G10,G11,{LAW}),1,1)",
            "result",
            "count",
        ),
        (
            "Compute-optimal tokens",
            "G15",
            f"=INDEX(OPT_PARAMS(G10,G11,{LAW}),1,2)",
            "result",
            "count",
        ),
        (
            "Cost-optimal params (on the preset hardware)",
            "G16",
            f"=INDEX(COST_OPT(G10,G12,{PER_REQUEST},{LAW}),1,1)",
            "result",
            "count",
        ),
        (
            "Cost-optimal tokens (on the preset hardware)",
            "G17",
            f"=INDEX(COST_OPT(G10,G12,{PER_REQUEST},{LAW}),1,2)",
            "result",
            "count",
        ),
    )
    for label, ref, value, kind, fmt in rows:
        ws[f"E{ref[1:]}"] = label
        put(ws, ref, value, kind, fmt)
    dropdown(ws, HARDWARE_CELL, list(HARDWARE_PRESETS), "Hardware preset")
    number_rule(ws, f"A{RUNS_FIRST_ROW}:C{RUNS_LAST_ROW}", POSITIVE, "Run", optional=True)
    number_rule(ws, "G10", POSITIVE, "Target loss")
    number_rule(ws, "G11:G12", NON_NEGATIVE, "Lifetime demand")
    # The law here is the fitted one (F7:J7), so there is no law preset cell to pick.
    set_widths(
        ws, {"A": 14, "B": 14, "C": 10, "D": 3, "E": 40} | {letter: 13 for letter in "FGHIJ"}
    )
    name_inputs(
        wb,
        {
            "Runs": f"{SHEET}!{RUNS}",
            "TargetLoss": f"{SHEET}!$G$10",
            "InferenceTokens": f"{SHEET}!$G$11",
            "Requests": f"{SHEET}!$G$12",
            "HardwarePreset": f"{SHEET}!$G$13",
        },
    )
    add_checks(wb, fit_checks(SHEET, LAW), "the fit", "E4", "G4")
    return wb
