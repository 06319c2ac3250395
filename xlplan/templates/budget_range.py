"""The budget planner's demand-range block: the robust plan beside the base-case plan.

Two inputs, low and high requests per day, turn the planner's single demand
into three scenarios (low, base, high lifetime requests). The base-case plan
(the planner's recommendation) and the robust plan (``ROBUST_OPT``: least
worst-case regret over the whole range) stand side by side: size, tokens, the
lifetime bill under each scenario and the worst-case regret. The block goes
below whatever the planner already holds; :func:`add_demand_range` returns its
cells by label.
"""

from ..shared.styles import header_row, note, put

__all__ = ["add_demand_range", "LOW_LABEL", "HIGH_LABEL", "LOW_PER_DAY", "HIGH_PER_DAY"]

LOW_LABEL = "Low demand: requests per day"
HIGH_LABEL = "High demand: requests per day"
SCENARIOS_LABEL = "Lifetime requests: low, base, high"
LOW_PER_DAY, HIGH_PER_DAY = 3e5, 3e6  # either side of the planner's 1e6 a day


def _rows(scenarios, per_request):
    """(label, base-case formula, robust formula, format) of each result row."""
    robust = f"ROBUST_OPT($B$17,{scenarios},{per_request},$B$10)"
    table = f"REGRET_TABLE($B$17,{scenarios},{per_request},$B$10)"
    rows = [
        ("Model size (parameters)", "=$B$19", f"=INDEX({robust},1,1)", "count"),
        ("Training tokens", "=$B$20", f"=INDEX({robust},1,2)", "count"),
    ]
    for k, which in enumerate(("low", "base", "high")):
        demand = f"INDEX({scenarios},1,{k + 1})"
        rows.append(
            (
                f"Lifetime cost if {which} demand happens ($)",
                f"=INDEX(LIFETIME_COST($B$19,$B$20,{demand},{per_request}),1,3)",
                f"=INDEX(LIFETIME_COST({{params}},{{tokens}},{demand},{per_request}),1,3)",
                "usd",
            )
        )
    rows.append(
        (
            "Worst-case regret over the range ($)",
            f"=INDEX({table},2,4)",
            f"=INDEX({robust},1,3)",
            "usd",
        )
    )
    return rows


def add_demand_range(ws, top, per_request):
    """Write the block with its header at row ``top``; returns {label: cell reference}.

    Base-case values are in column B, the robust plan's in column C.
    """
    header_row(
        ws, top, 1, ["Demand range: base-case plan and robust plan", "Base case", "Robust plan"]
    )
    note(
        ws,
        f"A{top + 1}",
        "Robust plan: the model of the same quality whose worst-case "
        "regret (cost above the best plan for the demand that happens) is least over [low, "
        "high].",
    )
    refs = {LOW_LABEL: f"B{top + 2}", HIGH_LABEL: f"B{top + 3}"}
    for label, value, r in ((LOW_LABEL, LOW_PER_DAY, top + 2), (HIGH_LABEL, HIGH_PER_DAY, top + 3)):
        ws[f"A{r}"] = label
        put(ws, f"B{r}", value, "input", "integer")  # requests per day: whole numbers
    r = top + 4
    ws[f"A{r}"] = SCENARIOS_LABEL
    formulas = (f"=$B${top + 2}*$B$7", "=$B$18", f"=$B${top + 3}*$B$7")
    for letter, formula in zip("BCD", formulas, strict=True):
        put(ws, f"{letter}{r}", formula, "result", "count")
    refs[SCENARIOS_LABEL] = f"B{r}:D{r}"
    scenarios = f"$B${r}:$D${r}"
    names = {"params": f"$C${top + 5}", "tokens": f"$C${top + 6}"}
    for k, (label, base, robust, fmt) in enumerate(_rows(scenarios, per_request)):
        r = top + 5 + k
        ws[f"A{r}"] = label
        put(ws, f"B{r}", base, "result", fmt)
        put(ws, f"C{r}", robust.format(**names), "result", fmt, bold=True)
        refs[label] = f"B{r}:C{r}"
    return refs
