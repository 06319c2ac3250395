"""The custom-functions metadata JSON Office reads, generated from the function registry."""

from .. import udfs
from ..excel.registry import office_name

__all__ = ["functions_metadata", "function_table"]


def _parameter(param):
    return {
        "name": param.name,
        "description": param.help,
        "type": "any",
        "dimensionality": "matrix" if param.range else "scalar",
        "optional": param.optional,
    }


def functions_metadata():
    """Every function of :mod:`xlplan.udfs`: description, parameters, result shape."""
    return {
        "functions": [
            {
                "id": office_name(spec.name),
                "name": office_name(spec.name),
                "description": spec.description,
                "parameters": [_parameter(p) for p in spec.params],
                "result": {
                    "type": "number",
                    "dimensionality": "matrix" if spec.result else "scalar",
                },
                # The cell address comes with each call, so errors can say which cell.
                "options": {"requiresAddress": True},
            }
            for spec in udfs.FUNCTIONS.values()
        ]
    }


def function_table():
    """What functions.js needs to register (``id``) and call (``name``) each function: arity
    and result shape."""
    return [
        {
            "id": office_name(spec.name),
            "name": spec.name,
            "params": len(spec.params),
            "required": spec.min_args,
            "matrix": bool(spec.result),
            "slow": spec.slow,
        }
        for spec in udfs.FUNCTIONS.values()
    ]
