"""The study switches listed in docs/architecture.md exist with the defaults the table gives.

A default changed in the code without the docs (or the reverse) fails here; so does a switch that
was removed while the docs still offer it.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"
ROW = re.compile(r"^\| `(?P<name>[A-Z_]+)` \| `(?P<module>[a-z_.]+)` \| `(?P<default>[^`]+)` \|")


def _rows() -> list[tuple[str, str, str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Study switches", 1)[1]
    return [(m["name"], m["module"], m["default"]) for m in map(ROW.match, section.splitlines()) if m]


def test_the_table_lists_switches() -> None:
    assert len(_rows()) >= 10


@pytest.mark.parametrize(("name", "module", "default"), _rows())
def test_switch_has_the_documented_default(name: str, module: str, default: str) -> None:
    mod = importlib.import_module(f"tripletws.{module}")
    assert hasattr(mod, name), f"tripletws.{module}.{name} is documented but does not exist"
    assert getattr(mod, name) == ast.literal_eval(default), (
        f"tripletws.{module}.{name} is {getattr(mod, name)!r}, docs/architecture.md says {default}"
    )
