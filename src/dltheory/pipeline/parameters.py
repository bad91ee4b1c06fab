"""A notebook's ``parameters`` cell (names and literal defaults) and ``-p NAME VALUE`` overrides of it."""

from __future__ import annotations

import ast
from pathlib import Path

from dltheory.pipeline import BadInput

__all__ = ["read_notebook", "read_parameters", "coerce_parameters"]


def read_notebook(source: Path):
    """The jupytext percent source as an nbformat notebook."""
    import jupytext

    return jupytext.read(source)


def read_parameters(source: Path) -> dict:
    """Names and default values assigned in the cell tagged ``parameters`` (literals only)."""
    cells = [c for c in read_notebook(source).cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise BadInput(f"{source}: expected one cell tagged 'parameters', found {len(cells)}")
    params = {}
    for node in ast.parse(cells[0].source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise BadInput(f"{source}: line {node.lineno} of the parameters cell is not 'name = literal'")
        try:
            params[node.targets[0].id] = ast.literal_eval(node.value)
        except ValueError:
            raise BadInput(f"{source}: parameter {node.targets[0].id!r} is not a literal") from None
    return params


def coerce_parameters(name: str, defaults: dict, overrides: list[tuple[str, str]]) -> dict:
    """Turn ``-p NAME VALUE`` strings into values of the defaults' types; :class:`BadInput` on any misfit."""
    out = {}
    for key, text in overrides:
        if key not in defaults:
            raise BadInput(f"{name} has no parameter {key!r} (known: {', '.join(defaults)})")
        kind = type(defaults[key])
        try:
            if kind is bool:
                if text.lower() not in ("true", "false", "1", "0"):
                    raise ValueError
                value = text.lower() in ("true", "1")
            elif kind in (int, float, str):
                value = kind(text)
            else:
                value = ast.literal_eval(text)
                if type(value) is not kind:
                    raise ValueError
        except (ValueError, SyntaxError):
            raise BadInput(f"parameter {key!r} of {name} expects a {kind.__name__}, got {text!r}") from None
        out[key] = value
    return out
