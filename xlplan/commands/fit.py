"""``xlplan fit``: fit L(N, D) = E + A / N**alpha + B / D**beta to a table of training runs."""

from ..engine.constants import DEFAULT_DELTA
from ..engine.errors import XlplanError
from ..engine.laws import COEFFICIENT_NAMES
from ..lawfile import write_law_file
from ..shared.progress import Progress


def _report(fit, source, intervals=None, level=None):
    law = fit.law
    lines = [f"law fitted to {source} (Eq. 4: sum of Huber losses, delta={fit.delta:g})", ""]
    for key in COEFFICIENT_NAMES:
        line = f"  {key:<6}= {getattr(law, key):.6g}"
        if intervals:
            low, high = intervals[key]
            line += f"   {level:.0%} interval [{low:.4g}, {high:.4g}]"
        lines.append(line)
    cut = (
        ""
        if fit.max_tokens_per_param is None
        else f", {fit.n_excluded} excluded as above {fit.max_tokens_per_param:g} tokens/param"
    )
    rows = f" (rows {', '.join(map(str, fit.skipped_rows))})" if fit.skipped_rows else ""
    lines += [
        "",
        f"objective: {fit.objective:.6g}",
        f"runs: {fit.n_used} used, {fit.n_skipped} skipped as blank or non-numeric{rows}{cut}",
        f"starts: {fit.n_starts} ({fit.n_pruned} dropped early for a poor objective, "
        f"{fit.n_converged} of the rest converged)",
        f"largest log residual: {abs(fit.residuals).max():.3g}",
    ]
    lines += [f"warning: {w}" for w in fit.warnings]
    return "\n".join(lines)


# The loader's keyword arguments are this command's options: loss_col='x' -> --loss-col 'x'.
OPTION_NAMES = {
    "params_col": "--params-col",
    "tokens_col": "--tokens-col",
    "loss_col": "--loss-col",
    "flops_col": "--flops-col",
    "max_tokens_per_param": "--max-tokens-per-param",
    "delta": "--delta",
    "n_resamples": "--bootstrap",
    "seed": "--seed",
}


def as_option(error):
    """``error`` naming the command-line option behind its argument, if there is one."""
    option = OPTION_NAMES.get(error.argument)
    return error if option is None else error.renamed(option, assign=" ")


def run(args):
    # Imported here: the optimiser (scipy) should not slow down `xlplan --help`.
    from ..fit.bootstrap import bootstrap_law
    from ..fit.guard import quiet_fit
    from ..fit.law import fit_law
    from ..fit.runs import load_runs

    try:
        runs = load_runs(
            args.runs,
            params_col=args.params_col,
            tokens_col=args.tokens_col,
            loss_col=args.loss_col,
            flops_col=args.flops_col,
        )
        options = {"max_tokens_per_param": args.max_tokens_per_param, "delta": args.delta}
        with quiet_fit(args.runs):
            if args.bootstrap:
                # Shown even off a terminal: a long bootstrap in a log says how far it got.
                with Progress(args.bootstrap, "bootstrap", enabled=True) as bar:
                    result = bootstrap_law(
                        runs, args.bootstrap, seed=args.seed, progress=bar.show, **options
                    )
                fit, intervals, level = result.fit, result.intervals, result.level
            else:
                fit, intervals, level = fit_law(runs, **options), None, None
    except XlplanError as error:
        raise as_option(error) from None
    law = fit.law
    if args.name:
        law = type(law)(*law.as_tuple(), name=args.name, source=law.source)
    print(_report(fit, args.runs, intervals, level))
    if args.output:
        write_law_file(law, args.output, protect=[args.runs])
        print(
            f"law file written: {args.output} (use it as xlplan report --law {args.output}, "
            f'or law = "{args.output}" in a report scenario)'
        )
    return 0


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "fit",
        help="fit a scaling law to training runs (CSV/XLSX) and save it as a law file",
        description=__doc__,
    )
    parser.add_argument(
        "runs",
        help="CSV or XLSX file, one run per row with columns for "
        "parameters, training tokens and final loss",
    )
    parser.add_argument(
        "--max-tokens-per-param",
        type=float,
        default=None,
        metavar="X",
        help="fit only runs with at most X training tokens per parameter",
    )
    parser.add_argument(
        "--delta",
        type=float,
        default=DEFAULT_DELTA,
        help="Huber threshold on log-loss residuals (default %(default)g)",
    )
    parser.add_argument(
        "--params-col", default=None, metavar="NAME", help="column holding the parameter counts"
    )
    parser.add_argument(
        "--tokens-col", default=None, metavar="NAME", help="column holding the training tokens"
    )
    parser.add_argument(
        "--flops-col",
        default=None,
        metavar="NAME",
        help="column holding training compute (FLOPs), read instead of tokens: "
        "tokens = FLOPs / (6 x params), for data with no tokens column",
    )
    parser.add_argument(
        "--loss-col", default=None, metavar="NAME", help="column holding the final loss (nats)"
    )
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=0,
        metavar="K",
        help="add confidence intervals from K resamples of the runs",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap resampling")
    parser.add_argument("--name", default=None, help="name of the fitted law (default 'fitted')")
    parser.add_argument(
        "--output",
        default=None,
        metavar="LAW.json",
        help="write the fitted law as a law preset file",
    )
    parser.set_defaults(run=run)
