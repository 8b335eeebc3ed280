"""The package's imports run one way: no cycle, and no import from a lower layer into a higher one.

Layers, lowest first: schema helpers <- components (data, models, losses, metrics, ...) <- tasks
<- task dispatch and config <- applications (train, inference, ablation, ...) <- command lines.
Function-local imports count as much as module-level ones: hiding an import in a function does
not remove the dependency.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "densepred"

LAYERS: dict[str, int] = {
    "densepred.core": 0,
    "densepred.config": 1,
    "densepred.encoders": 2,
    "densepred.decoders": 2,
    "densepred.losses": 2,
    "densepred.metrics": 2,
    "densepred.data": 2,
    "densepred.models": 2,
    "densepred.portable": 2,
    "densepred.viz": 2,
    "densepred.tasks": 3,
    "densepred.app": 4,
    "densepred.ablation": 4,
    "densepred.export": 4,
    "densepred.cli": 5,
    "densepred.ablation.cli": 5,
    "densepred.export.cli": 5,
    "densepred": 5,
}
"""Folder (or front-end module) -> layer; a module takes the layer of its longest listed prefix."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts).removesuffix(".__init__")


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def layer(module: str) -> int:
    prefixes = [p for p in LAYERS if module == p or module.startswith(p + ".")]
    if not prefixes:
        raise AssertionError(f"{module} has no layer: add it (or its package) to LAYERS")
    return LAYERS[max(prefixes, key=len)]


def resolve(name: str) -> str | None:
    """The package module an imported name lives in (``a.b.func`` -> ``a.b``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports(module: str, source: str | None = None) -> set[str]:
    """Package modules that ``module`` imports anywhere in its file (not its own parents).

    Args:
        module: Dotted module name.
        source: Its code (default: read from its file).
    """
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    source = path.read_text(encoding="utf-8") if source is None else source
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            names = [f"{base}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            target = resolve(name) if name.startswith("densepred") else None
            if target and target != module and not module.startswith(target + "."):
                found.add(target)
    return found


GRAPH = {module: imports(module) for module in MODULES}


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer(module)


def test_no_import_cycle() -> None:
    try:
        graphlib.TopologicalSorter(GRAPH).prepare()
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_downward(module: str) -> None:
    upward = sorted(t for t in GRAPH[module] if layer(t) > layer(module))
    assert not upward, f"{module} (layer {layer(module)}) imports higher layers: {upward}"


def test_the_checker_sees_function_local_and_relative_upward_imports() -> None:
    local = "def f():\n    from densepred.app.config import load_config\n"
    relative = "from ..app.config import load_config\n"
    for source in (local, relative):
        found = imports("densepred.tasks.base", source)
        assert found == {"densepred.app.config"}
        assert layer("densepred.app.config") > layer("densepred.tasks.base")
