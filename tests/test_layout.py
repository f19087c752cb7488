"""The package's layout: the core never imports a face, and the wiring defaults live once."""

from __future__ import annotations

import ast
import inspect
from dataclasses import fields
from pathlib import Path

import pytest

from cerebros.config import WIRING_DEFAULTS, WiringConfig

PACKAGE = Path(__file__).resolve().parents[1] / "cerebros"
FACES = ("cerebros.units", "cerebros.levels", "cerebros.neuralnetworkfuture",
         "cerebros.denseautomlstructuralcomponent", "cerebros.simplecerebrosrandomsearch")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports (absolute or relative, at any depth of the file)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def is_face(name: str) -> bool:
    return any(name == face or name.startswith(face + ".") for face in FACES)


def core_modules() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py"))
            if not is_face(module_name(p)) and module_name(p) != "cerebros"]


def test_the_layout_check_sees_a_face_import(tmp_path):
    """The checker itself: a planted import of a face is found, in every import form."""
    planted = PACKAGE / "_planted_for_test.py"
    planted.write_text("from cerebros.units.units import DenseUnit\n"
                       "from .neuralnetworkfuture import neural_network_future\n"
                       "def f():\n    import cerebros.levels.levels\n")
    try:
        found = {n for n in imported_modules(planted) if is_face(n)}
    finally:
        planted.unlink()
    assert {"cerebros.units.units", "cerebros.neuralnetworkfuture",
            "cerebros.levels.levels"} <= found


def test_no_core_module_imports_a_face():
    offenders = {module_name(p): sorted(n for n in imported_modules(p) if is_face(n))
                 for p in core_modules()}
    assert len(offenders) > 15  # the check really looked at the core
    assert {m: names for m, names in offenders.items() if names} == {}


@pytest.mark.parametrize("entry_point", [
    "cerebros.neuralnetworkfuture.neural_network_future:NeuralNetworkFuture",
    "cerebros.search:SimpleCerebrosRandomSearch",
    "cerebros.denseautomlstructuralcomponent.dense_automl_structural_component:"
    "DenseAutoMlStructuralComponent",
    "cerebros.denseautomlstructuralcomponent.dense_automl_structural_component:"
    "DenseLateralConnectivity",
])
def test_long_signatures_take_the_wiring_defaults_from_one_place(entry_point):
    import importlib

    module, _, name = entry_point.partition(":")
    parameters = inspect.signature(getattr(importlib.import_module(module), name)).parameters
    wiring = [f.name for f in fields(WiringConfig) if f.name in parameters]
    assert wiring, "the entry point takes no wiring argument"
    for field_name in wiring:
        assert parameters[field_name].default is getattr(WIRING_DEFAULTS, field_name), field_name


def test_from_arguments_refuses_a_missing_wiring_argument():
    arguments = WIRING_DEFAULTS.as_arguments()
    del arguments["p_lateral_connection"]
    with pytest.raises(TypeError, match="p_lateral_connection"):
        WiringConfig.from_arguments(arguments)
    assert WiringConfig.from_arguments({**WIRING_DEFAULTS.as_arguments(), "other": 1}) \
        == WIRING_DEFAULTS
