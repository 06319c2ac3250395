"""``xlplan report [--scenario FILE] -o report.xlsx``: plans, the paper's tables, sweeps.

With no scenario, the paper's own settings (its Table 3 rows, law 'chinchilla',
hardware 'paper-a100'). A scenario file (TOML or YAML) gives the law (or a runs
file to fit), the hardware and the demand scenarios. Written atomically.
"""

import sys


def run(args):
    from ..report.build import write_report

    write_report(args.output, args.scenario, show_progress=False if args.quiet else None)
    print(f"xlplan report: written to {args.output}", file=sys.stderr)
    return 0


def add_parser(subparsers):
    parser = subparsers.add_parser("report", help="write a sizing report workbook",
                                   description=__doc__)
    parser.add_argument("-o", "--output", required=True, help="report to write (.xlsx)")
    parser.add_argument("--scenario", help="scenario file, .toml or .yaml (default: the "
                        "paper's settings, embedded)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)
