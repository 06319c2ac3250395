"""The identities each template's Checks sheet recomputes, as live formulas.

One function per template returns its :class:`~xlplan.shared.checks.Check` rows,
each reading the cells where the template shows a quantity and recomputing it
another way (by hand from the hardware row, from another block, from Excel's own
NPV). :func:`add_checks` writes the sheet and shows the master check on the
template's first sheet.
"""

from openpyxl.styles import Font

from ..shared.checks import Check, checks_sheet, highlight
from ..shared.styles import put

__all__ = [
    "add_checks",
    "planner_checks",
    "monthly_checks",
    "table2_checks",
    "table3_checks",
    "fit_checks",
    "MASTER_LABEL",
]

MASTER_LABEL = "Master check (Checks sheet)"
# 6ND / (peak x MFU) x $/h, with {c[k]} the column of the k-th hardware setting
_TRAIN = "6*{p}{n}*{p}{d}/({p}${c[1]}${h}*{p}${c[2]}${h}*3600)*{p}${c[0]}${h}"


def add_checks(wb, checks, subject, label_ref, value_ref):
    """Append the Checks sheet; the first sheet shows its master check at ``value_ref``."""
    master = checks_sheet(wb, checks, subject)
    first = wb.worksheets[0]
    first[label_ref] = MASTER_LABEL
    first[label_ref].font = Font(bold=True)
    put(first, value_ref, f"={master}", "result", bold=True)
    highlight(first, value_ref)
    return master


def _training(p, n, d, h, columns="BCDEFGH"):
    return "=" + _TRAIN.format(p=p, n=n, d=d, h=h, c=columns)


def _reaches(p, n, d, law, loss):
    return Check(
        "The recommended model reaches the target loss",
        f"=SCALING_LOSS({p}{n},{p}{d},{law})",
        f"={p}{loss}",
        "loss",
        f"loss law at {n}, {d}; {loss}",
    )


def planner_checks(sensitivity_row, ranged, limits, serving):
    """The budget planner's identities; the block arguments are their {label: cell} maps."""
    p, b = "Planner!", "'What a budget buys'!"
    row = ranged["Lifetime cost if base demand happens ($)"].split(":")[0][1:]
    base, robust = f"{p}$B${row}", f"{p}$C${row}"
    limited = limits["Total lifetime cost with this data ($)"]
    gpu_hours = serving["GPU-hours per month"]
    inference = f"={p}$B$18*2*{p}$B$19*({p}$B$8/{p}$G$13+{p}$B$9/{p}$H$13)/{p}$F$13/3600*{p}$E$13"
    return [
        Check(
            "Training $ + inference $ = total lifetime cost",
            f"={p}$B$21+{p}$B$22",
            f"={p}$B$23",
            "usd",
            "Planner B21 + B22; B23",
        ),
        Check(
            "Training $ = 6 x params x tokens / (peak FLOP/s x MFU x 3,600 s) x $ per GPU-hour",
            _training(p, "$B$19", "$B$20", 13),
            f"={p}$B$21",
            "usd",
            "Planner B19, B20 and the hardware row 13; B21",
        ),
        Check(
            "Inference $ = requests x 2 x params x (prompt / prefill MFU + output / decode "
            "MFU) / peak FLOP/s / 3,600 x $ per GPU-hour",
            inference,
            f"={p}$B$22",
            "usd",
            "Planner B8, B9, B18, B19 and row 13; B22",
        ),
        Check(
            "Saving (%) x Chinchilla-style cost = saving ($)",
            f"={p}$B$27*{p}$B$25",
            f"={p}$B$26",
            "usd",
            "Planner B25, B27; B26",
        ),
        _reaches(p, "$B$19", "$B$20", f"{p}$B$10", "$B$17"),
        Check(
            "Sensitivity table at 1x demand: total cost = the plan's",
            f"={p}$E${sensitivity_row}",
            f"={p}$B$23",
            "usd",
            f"Planner E{sensitivity_row}; B23",
        ),
        Check(
            "Demand range: the base-case plan's cost if base demand happens = the plan's",
            f"={base}",
            f"={p}$B$23",
            "usd",
            f"Planner B{row}; B23",
        ),
        Check(
            "Demand range: the robust plan costs at least the plan, if base demand happens",
            f"={robust}",
            f"={p}$B$23",
            "usd",
            f"Planner C{row}; B23",
            at_least=True,
        ),
        Check(
            "Data limit: the re-sized plan costs at least the unlimited plan",
            f"={p}${limited[0]}${limited[1:]}",
            f"={p}$B$23",
            "usd",
            f"Planner {limited}; B23",
            at_least=True,
        ),
        Check(
            "Serving: GPU-hours per month x inference $ per GPU-hour x months in service = "
            "the plan's inference $",
            f"={p}${gpu_hours[0]}${gpu_hours[1:]}*{p}$E$13*{p}$B$7*12/365",
            f"={p}$B$22",
            "usd",
            f"Planner {gpu_hours}, E13, B7; B22",
        ),
        Check(
            "What a budget buys: the best model's lifetime cost = the budget",
            f"={b}$B$18",
            f"={b}$B$5",
            "usd",
            "What a budget buys B18; B5",
        ),
        Check(
            "What a budget buys, given the plan's total cost, buys the plan's model (params)",
            f"=INDEX(BEST_FOR_BUDGET({p}$B$23,{p}$B$18,{p}$B$8,{p}$B$9,{p}$B$13:$H$13,"
            f"{p}$B$10),1,1)",
            f"={p}$B$19",
            "count",
            "BEST_FOR_BUDGET of Planner B23; Planner B19",
        ),
        Check(
            "What a budget buys: the Planner model's training GPU-hours x $ per GPU-hour "
            "= the Planner's training $",
            f"={b}$C$22*{p}$B$13",
            f"={p}$B$21",
            "usd",
            "What a budget buys C22, Planner B13; Planner B21",
        ),
    ]


def monthly_checks(sheet, month0, last, total, results):
    """The monthly template's identities: rows ``month0``..``last``, totals row ``total``;
    ``results`` maps names to the result cells (params, tokens, loss, training, ...)."""
    m = f"{sheet}!"
    r = {k: f"{m}${v[0]}${v[1:]}" for k, v in results.items()}
    first = month0 + 1
    return [
        Check(
            "Requests in months 1 to the horizon sum to the results' total",
            f"={m}$D${total}",
            f"={r['requests']}",
            "count",
            f"Monthly D{total}; {results['requests']}",
        ),
        Check(
            "Training $ + inference $ (present values) = total present value",
            f"={r['training']}+{r['inference']}",
            f"={r['total']}",
            "usd",
            f"{results['training']} + {results['inference']}; {results['total']}",
        ),
        Check(
            "The present-value column sums to the total present value",
            f"={m}$H${total}",
            f"={r['total']}",
            "usd",
            f"Monthly H{total}; {results['total']}",
        ),
        Check(
            "PV = NPV: Excel's NPV of the monthly inference costs = inference present value",
            f"=NPV((1+{m}$B$11)^(1/12)-1,{m}$G${first}:$G${last})",
            f"={r['inference']}",
            "usd",
            f"NPV of Monthly G{first}:G{last}; {results['inference']}",
        ),
        Check(
            "Month 0 (training) cost = the results' training cost",
            f"={m}$G${month0}",
            f"={r['training']}",
            "usd",
            f"Monthly G{month0}; {results['training']}",
        ),
        Check(
            "Training $ + inference $ columns = the monthly cost column",
            f"={m}$I${total}+{m}$J${total}",
            f"={m}$G${total}",
            "usd",
            f"Monthly I{total} + J{total}; G{total}",
        ),
        Check(
            "Cumulative spend in the last month = the total of the monthly costs",
            f"={m}$K${last}",
            f"={m}$G${total}",
            "usd",
            f"Monthly K{last}; G{total}",
        ),
        Check(
            "Average GPUs x 730 hours = GPU-hours (all months)",
            f"={m}$F${total}*730",
            f"={m}$E${total}",
            "integer",
            f"Monthly F{total}; E{total}",
        ),
        Check(
            "Training GPU-hours x training $ per GPU-hour = training cost",
            f"={m}$E${month0}*{m}$B$16",
            f"={m}$G${month0}",
            "usd",
            f"Monthly E{month0}, B16; G{month0}",
        ),
        Check(
            "Month 1: inference GPU-hours x today's $ per GPU-hour = the month's cost",
            f"={m}$E${first}*{m}$E$16",
            f"={m}$G${first}",
            "usd",
            f"Monthly E{first}, E16; G{first}",
        ),
        _reaches(
            m,
            f"${results['params'][0]}${results['params'][1:]}",
            f"${results['tokens'][0]}${results['tokens'][1:]}",
            f"{m}$B$13",
            f"${results['loss'][0]}${results['loss'][1:]}",
        ),
    ]


def table2_checks(sheet, rows, law):
    """Table 2's identities, row by row (``rows``: the data rows)."""
    s = f"'{sheet}'!"
    checks = []
    for k, r in enumerate(rows, start=1):
        checks += [
            Check(
                f"Row {k}: the compute-optimal model reaches the target loss",
                f"=SCALING_LOSS({s}$F${r},{s}$G${r},{s}{law})",
                f"={s}$C${r}",
                "loss",
                f"loss law at F{r}, G{r}; C{r}",
            ),
            Check(
                f"Row {k}: Chinchilla FLOPs = 6 N D + 2 N x inference tokens",
                f"=6*{s}$A${r}*{s}$D${r}+2*{s}$A${r}*{s}$B${r}",
                f"={s}$E${r}",
                "flops",
                f"A{r}, B{r}, D{r}; E{r}",
            ),
            Check(
                f"Row {k}: Chinchilla FLOPs at least the compute-optimal FLOPs",
                f"={s}$E${r}",
                f"={s}$H${r}",
                "flops",
                f"E{r}; H{r}",
                at_least=True,
            ),
        ]
    return checks


def table3_checks(sheet, blocks, law, input_tokens, output_tokens, columns):
    """Table 3's identities: ``blocks`` = (hardware row, data rows) of each block; the
    hardware settings are in ``columns`` (seven letters) of the hardware row."""
    s = f"'{sheet}'!"
    c = columns
    checks = []
    for b, (h, rows) in enumerate(blocks, start=1):
        for k, r in enumerate(rows, start=1):
            chinchilla = (
                _training(s, f"$A${r}", f"$D${r}", h, c) + f"+{s}$B${r}*2*{s}$A${r}"
                f"*({s}{input_tokens}/{s}${c[5]}${h}+{s}{output_tokens}/"
                f"{s}${c[6]}${h})/{s}${c[4]}${h}/3600*{s}${c[3]}${h}"
            )
            checks += [
                Check(
                    f"Block {b}, row {k}: the cost-optimal model reaches the target loss",
                    f"=SCALING_LOSS({s}$F${r},{s}$G${r},{s}{law})",
                    f"={s}$C${r}",
                    "loss",
                    f"loss law at F{r}, G{r}; C{r}",
                ),
                Check(
                    f"Block {b}, row {k}: Chinchilla cost = training + inference priced "
                    f"by hand on hardware row {h}",
                    chinchilla,
                    f"={s}$E${r}",
                    "usd",
                    f"A{r}, B{r}, D{r}, row {h}; E{r}",
                ),
                Check(
                    f"Block {b}, row {k}: Chinchilla cost at least the cost-optimal cost",
                    f"={s}$E${r}",
                    f"={s}$H${r}",
                    "usd",
                    f"E{r}; H{r}",
                    at_least=True,
                ),
            ]
    return checks


def fit_checks(sheet, law):
    """The fit template's identities: both sizings reach the target loss under the fit."""
    s = f"{sheet}!"
    return [
        Check(
            f"The {what} model reaches the target loss under the fitted law",
            f"=SCALING_LOSS({s}$G${n},{s}$G${n + 1},{s}{law})",
            f"={s}$G$10",
            "loss",
            f"fitted law at G{n}, G{n + 1}; G10",
        )
        for what, n in (("compute-optimal", 14), ("cost-optimal", 16))
    ]
