"""Source hygiene: no control characters in sources, and none smuggled into docstrings by a LaTeX escape.

A docstring with ``\\tfrac`` or ``\\beta`` in a non-raw string holds a TAB or a backspace at run time; the
rendered formula breaks silently. Both checks fail on the damage they look for (see the last test).
"""

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import dltheory

ROOT = Path(__file__).resolve().parents[1]
# every C0 control character but the newline, and DEL
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def _sources() -> list[Path]:
    return sorted([*(ROOT / "src").rglob("*.py"), *(ROOT / "notebooks").rglob("*.py"), *(ROOT / "tests").rglob("*.py")])


def _bad_lines(text: str) -> list[int]:
    return [i for i, line in enumerate(text.split("\n"), 1) if CONTROL.search(line)]


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_control_characters_in_sources(path):
    bad = _bad_lines(path.read_bytes().decode("utf-8"))
    assert not bad, f"{path.relative_to(ROOT)}: control characters on lines {bad}"


def _docstrings():
    for info in pkgutil.walk_packages(dltheory.__path__, "dltheory."):
        if info.name.endswith("__main__"):  # importing it runs the command line
            continue
        module = importlib.import_module(info.name)
        yield info.name, module.__doc__
        for name, obj in vars(module).items():
            if getattr(obj, "__module__", None) == info.name and (inspect.isfunction(obj) or inspect.isclass(obj)):
                yield f"{info.name}.{name}", obj.__doc__
                for attr, member in vars(obj).items() if inspect.isclass(obj) else ():
                    if inspect.isfunction(member):
                        yield f"{info.name}.{name}.{attr}", member.__doc__


def test_no_control_characters_in_docstrings():
    bad = [name for name, doc in _docstrings() if doc and CONTROL.search(doc)]
    assert not bad, f"docstrings holding control characters (a LaTeX escape in a non-raw string?): {bad}"


def test_the_checks_catch_the_damage_they_look_for():
    # a LaTeX \tfrac in a non-raw string is a TAB; a carriage return hides a line
    assert _bad_lines("x = 1\n" + "y = '\tfrac12'\n") == [2]
    assert _bad_lines("a\r\nb\n") == [1]
    assert not _bad_lines(r"ok = r'\tfrac12'" + "\n")
