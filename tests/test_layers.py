"""Data flows one way: route -> pipeline -> analyzers -> model wrappers -> models (the parts
and arrows are drawn in docs/structure.json).

Read from the source (imports as written), so a layer that reaches back up fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "proctor"
#: Per layer, the modules it must never import.
FORBIDDEN = {
    "proctor/analyzers": (
        "proctor.api",
        "proctor.attempts",
        "proctor.store",
        "proctor.eval",
        "proctor.services",
        "tools",
    ),
    "proctor/models": (
        "proctor.api",
        "proctor.store",
        "proctor.eval",
        "proctor.services",
        "proctor.analyzers",
        "proctor.pipeline",
        "tools",
    ),
    "proctor/geometry": ("proctor.api", "proctor.store", "proctor.eval", "proctor.analyzers"),
    "proctor/store": ("proctor.api", "proctor.analyzers", "proctor.pipeline", "proctor.eval"),
    "proctor/pipeline.py": (
        "proctor.api",
        "proctor.store",
        "proctor.attempts",
        "proctor.eval",
        "tools",
    ),
    "proctor/attempts": ("proctor.api", "proctor.eval", "tools"),
    # The challenge reads frames through the pipeline and keeps nonces in the store; the API
    # builds it (no HTTP in it) and the evaluation calls its judge.
    "proctor/liveness": ("proctor.api", "proctor.eval", "proctor.services", "tools"),
    # The incident and risk rules are pure: the store replays them inside its transaction.
    "proctor/attempts/incidents.py": ("proctor.store", "proctor.pipeline", "proctor.analyzers"),
    "proctor/attempts/risk.py": ("proctor.store", "proctor.pipeline", "proctor.analyzers"),
}


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_does_not_reach_back(layer: str) -> None:
    target = ROOT / layer
    files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
    assert files
    offences = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in sorted(imported(path))
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer])
    ]
    assert offences == []


def test_runtime_package_does_not_import_the_tools() -> None:
    offences = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for name in sorted(imported(path))
        if name == "tools" or name.startswith("tools.")
    ]
    assert offences == []
