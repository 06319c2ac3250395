"""Parse JSON, TOML and YAML settings files with bounded nesting and one-line errors.

The parsers recurse once per level of nesting, so a file of 5,000 ``[`` would end
in a RecursionError; a 5,000-digit number ends in a ValueError; YAML aliases can
expand a few lines into billions of nodes (and a cycle into endless recursion
in whatever prints the value later). Here each of these is a
:class:`FileContentError` naming the file and the problem.
"""

import json
import sys

import yaml

from ..engine.errors import InvalidTypeError

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

__all__ = [
    "MAX_NESTING",
    "FileContentError",
    "BoundedYamlLoader",
    "parse_json",
    "parse_toml",
    "parse_yaml",
    "check_nesting",
]

# Levels of lists and tables inside each other; a scenario needs 4.
MAX_NESTING = 32


class FileContentError(InvalidTypeError):
    """A file read fine whose content is not what it must be (not JSON, nested too deep)."""


class _Refused(Exception):
    """A YAML construct refused while composing (raised inside the loader)."""


class BoundedYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing aliases and nesting beyond :data:`MAX_NESTING`."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise _Refused(
                f"uses an alias (*name) on line {mark.line + 1}; aliases are not "
                "supported in xlplan files: write the value out"
            )
        self._depth += 1
        if self._depth > MAX_NESTING:
            mark = self.peek_event().start_mark
            raise _Refused(
                f"nests lists or tables more than {MAX_NESTING} levels deep (line {mark.line + 1})"
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _fail(what, path, problem, argument):
    return FileContentError(f"{what} {str(path)!r} {problem}", argument=argument, value=str(path))


def _refused_value(error, what, path, argument):
    """A ValueError (or RecursionError) a parser raised on a value, as one line."""
    if isinstance(error, RecursionError):
        return _fail(
            what, path, f"nests lists or tables more than {MAX_NESTING} levels deep", argument
        )
    if "int_max_str_digits" in str(error):  # Python's guard against slow int parsing
        return _fail(
            what,
            path,
            f"holds a number of more than {sys.get_int_max_str_digits():,} digits",
            argument,
        )
    return _fail(what, path, f"holds a value that cannot be read: {error}", argument)


def check_nesting(data, what, path, argument=None):
    """Refuse ``data`` nested deeper than :data:`MAX_NESTING` (walked without recursion),
    or with a table key that is not text (YAML allows ``1: x`` and ``true: y``).

    TOML dotted keys (``a.b.c.d = 1``) build deep tables without deep parsing.
    """
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth >= MAX_NESTING:
                raise _fail(
                    what,
                    path,
                    f"nests lists or tables more than {MAX_NESTING} levels deep",
                    argument,
                )
            keys = value if isinstance(value, dict) else ()
            odd = next((key for key in keys if not isinstance(key, str)), None)
            if odd is not None:
                raise _fail(
                    what,
                    path,
                    f"has the key {str(odd)[:40]!r} "
                    f"({type(odd).__name__}); keys are names: write it as text",
                    argument,
                )
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return data


def _looks_like(parse, text):
    try:
        parse(text)
    except Exception:  # any failure just means "not this format"; only a hint depends on it
        return False
    return True


def parse_json(text, what, path, argument=None):
    """The value of the JSON ``text`` read from ``path``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise _fail(what, path, f"is not valid JSON ({error})", argument) from None
    except (ValueError, RecursionError) as error:  # e.g. an integer of 5,000 digits
        raise _refused_value(error, what, path, argument) from None
    return check_nesting(data, what, path, argument)


def parse_toml(text, what, path, argument=None):
    """The table of the TOML ``text`` read from ``path``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        hint = (
            "; it reads as YAML: name the file .yaml"
            if "\n" in text.strip()
            and _looks_like(lambda t: isinstance(parse_yaml(t, what, path), dict), text)
            else ""
        )
        raise _fail(what, path, f"is not valid TOML: {error}{hint}", argument) from None
    except (ValueError, RecursionError) as error:
        raise _refused_value(error, what, path, argument) from None
    return check_nesting(data, what, path, argument)


def _yaml_problem(error):
    """One line for a PyYAML error: its problem and where, without the quoted snippet."""
    problem = getattr(error, "problem", None) or getattr(error, "context", None) or str(error)
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
    return " ".join(str(problem).split()) + where


def parse_yaml(text, what, path, argument=None, loader=BoundedYamlLoader):
    """The value of the YAML ``text`` read from ``path``; ``loader`` a
    :class:`BoundedYamlLoader` subclass."""
    try:
        data = yaml.load(text, Loader=loader)
    except _Refused as error:
        raise _fail(what, path, str(error), argument) from None
    except yaml.YAMLError as error:
        hint = "; it reads as TOML: name the file .toml" if _looks_like(tomllib.loads, text) else ""
        raise _fail(
            what, path, f"is not valid YAML: {_yaml_problem(error)}{hint}", argument
        ) from None
    except (ValueError, RecursionError) as error:
        raise _refused_value(error, what, path, argument) from None
    return check_nesting(data, what, path, argument)
