"""Excel formula text to a small expression tree, for the evaluator.

Lexing is openpyxl's :class:`~openpyxl.formula.Tokenizer`; this module only
orders the tokens by Excel's precedence. Nodes are tuples:
``("num", x)``, ``("str", s)``, ``("bool", b)``, ``("err", code)``,
``("ref", text)``, ``("call", NAME, [args])``, ``("neg", x)``, ``("pct", x)``,
``("bin", op, left, right)`` and ``("blank",)`` for an omitted argument.
"""

from openpyxl.formula import Tokenizer
from openpyxl.formula.tokenizer import Token, TokenizerError

from .. import udfs  # noqa: F401  (fills FUNCTIONS)
from ..excel.registry import FUNCTIONS, office_name

__all__ = ["parse", "UnsupportedFormula", "MAX_FORMULA_CHARS", "MAX_NESTING"]

MAX_FORMULA_CHARS = 8192  # Excel's own limit on the length of a formula
# Levels of parentheses, function calls, signs and % one formula may nest (Excel allows 64
# levels of functions). Parsing and evaluating recurse once per level, so this bounds both.
MAX_NESTING = 100

# Binary operators by binding strength (Excel: comparison < & < +- < */ < ^).
_BINARY = {
    "=": 1,
    "<>": 1,
    "<": 1,
    ">": 1,
    "<=": 1,
    ">=": 1,
    "&": 2,
    "+": 3,
    "-": 3,
    "*": 4,
    "/": 4,
    "^": 5,
}
_PREFIX_POWER = 6  # Excel: -2^2 = 4, unary minus binds tighter than ^
# Prefixes Excel writes before newer or add-in function names in the file; an Office
# add-in's custom function XLPLAN.OPT_PARAMS is stored as _xldudf_XLPLAN_OPT_PARAMS
# (see xlplan.templates.routes). Stripped in this order, each at most once.
_NAME_PREFIXES = ("_xldudf_XLPLAN_", "_xlfn.", "_xludf.", "_xlws.", "XLPLAN.")


class UnsupportedFormula(Exception):
    """A formula (or part of one) the evaluator does not implement."""


# The add-in's names without the Python prefix (XLPLAN.HARDWARE is XLPLAN_HARDWARE).
_ADDIN_PREFIXES = ("_XLDUDF_XLPLAN_", "XLPLAN.")
_OFFICE_NAMES = {office_name(name): name for name in FUNCTIONS if office_name(name) != name}


def _function_name(token_value):
    name = token_value[:-1].upper()
    addin = name.startswith(_ADDIN_PREFIXES)
    for prefix in _NAME_PREFIXES:
        if name.startswith(prefix.upper()):
            name = name[len(prefix) :]
    return _OFFICE_NAMES.get(name, name) if addin else name


class _Parser:
    def __init__(self, formula):
        try:
            items = Tokenizer(formula).items
        except TokenizerError as error:
            raise UnsupportedFormula(f"cannot read formula {formula!r}: {error}") from None
        self.tokens = [t for t in items if t.type != Token.WSPACE]
        self.pos = 0
        self.depth = 0

    def deeper(self):
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise UnsupportedFormula(
                f"nests parentheses, functions or signs more than {MAX_NESTING} levels deep"
            )

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self):
        token = self.peek()
        self.pos += 1
        return token

    def expression(self, min_power=0):
        self.deeper()
        left, percents = self.prefix(), 0
        while True:
            token = self.peek()
            if token is not None and token.type == Token.OP_POST:
                self.take()
                percents += 1
                if percents > MAX_NESTING:
                    raise UnsupportedFormula(f"has more than {MAX_NESTING} % signs in a row")
                left = ("pct", left)
                continue
            if (
                token is None
                or token.type != Token.OP_IN
                or _BINARY.get(token.value, 0) <= min_power
            ):
                self.depth -= 1
                return left
            self.take()
            power = _BINARY[token.value]
            left = ("bin", token.value, left, self.expression(power))

    def prefix(self):
        token = self.take()
        if token is None:
            raise UnsupportedFormula("formula ends unexpectedly")
        if token.type == Token.OP_PRE:
            operand = self.expression(_PREFIX_POWER - 1)
            return ("neg", operand) if token.value == "-" else operand
        if token.type == Token.OPERAND:
            return self.operand(token)
        if token.type == Token.PAREN and token.subtype == Token.OPEN:
            inner = self.expression()
            self.expect(Token.PAREN)
            return inner
        if token.type == Token.FUNC and token.subtype == Token.OPEN:
            return ("call", _function_name(token.value), self.arguments())
        raise UnsupportedFormula(f"unexpected {token.value!r}")

    def operand(self, token):
        if token.subtype == Token.NUMBER:
            return ("num", float(token.value))
        if token.subtype == Token.TEXT:
            return ("str", token.value[1:-1].replace('""', '"'))
        if token.subtype == Token.LOGICAL:
            return ("bool", token.value.upper() == "TRUE")
        if token.subtype == Token.ERROR:
            return ("err", token.value)
        return ("ref", token.value)

    def arguments(self):
        args = []
        while True:
            token = self.peek()
            if token is None:
                raise UnsupportedFormula("missing ')'")
            if token.type == Token.FUNC and token.subtype == Token.CLOSE:
                self.take()
                if args or self.tokens[self.pos - 2].type == Token.SEP:
                    args.append(("blank",))
                return args
            if token.type == Token.SEP:
                if token.subtype != Token.ARG:
                    raise UnsupportedFormula("array constants are not supported")
                self.take()
                args.append(("blank",))
                continue
            args.append(self.expression())
            after = self.take()
            if after is None:
                raise UnsupportedFormula("missing ')'")
            if after.type == Token.FUNC and after.subtype == Token.CLOSE:
                return args
            if after.type != Token.SEP or after.subtype != Token.ARG:
                raise UnsupportedFormula(f"unexpected {after.value!r} in an argument list")

    def expect(self, kind):
        token = self.take()
        if token is None or token.type != kind:
            raise UnsupportedFormula("unbalanced parentheses")


def parse(formula):
    """The expression tree of ``formula`` (text starting with ``=``)."""
    if len(formula) > MAX_FORMULA_CHARS:
        raise UnsupportedFormula(
            f"is {len(formula):,} characters long; Excel's limit is {MAX_FORMULA_CHARS:,}"
        )
    parser = _Parser(formula)
    if not parser.tokens:
        raise UnsupportedFormula("empty formula")
    tree = parser.expression()
    if parser.peek() is not None:
        raise UnsupportedFormula(f"unexpected {parser.peek().value!r}")
    return tree
