"""The module layout docs/architecture.md promises: no import cycles, no private
names across modules, a docstring on every module, the layers contract kept."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp

from support import ROOT

SRC = ROOT / "src" / "comicc"


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("comicc", include_external_packages=False)


def _strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """Tarjan's algorithm over module -> directly imported modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    counter = 0
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

    def visit(module: str) -> None:
        nonlocal counter
        index[module] = low[module] = counter
        counter += 1
        stack.append(module)
        on_stack.add(module)
        for dep in graph.find_modules_directly_imported_by(module):
            if dep not in index:
                visit(dep)
                low[module] = min(low[module], low[dep])
            elif dep in on_stack:
                low[module] = min(low[module], index[dep])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == module:
                    break
            groups.append(group)

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return groups


def test_no_import_cycles_not_even_inside_functions():
    graph = _graph()
    cycles = [sorted(g) for g in _strongly_connected(graph) if len(g) > 1]
    assert cycles == []


def test_no_module_imports_a_private_name_of_another_module():
    offenders = []
    for path in sorted([*SRC.rglob("*.py"), *(ROOT / "tests").rglob("*.py")]):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("comicc"):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        offenders.append(f"{path.relative_to(ROOT)}: {node.module}.{alias.name}")
    assert offenders == []


def test_every_module_says_what_it_is():
    missing = [
        str(p.relative_to(ROOT))
        for p in sorted(SRC.rglob("*.py"))
        if ast.get_docstring(ast.parse(p.read_text())) is None
    ]
    assert missing == []


def test_no_top_level_module_that_belongs_in_a_stage():
    top = sorted(p.name for p in SRC.glob("*.py"))
    # foundation modules every stage may use, plus the entry points
    assert top == [
        "__init__.py",
        "__main__.py",
        "cli.py",
        "codecache.py",
        "collector.py",
        "diagnostics.py",
        "files.py",
        "forking.py",
        "images.py",
        "launch.py",
        "lazy.py",
        "resources.py",
        "source.py",
        "units.py",
        "usercache.py",
    ]


def test_layers_contract_holds():
    lint = Path(sys.executable).with_name("lint-imports")  # installed by the test extra
    done = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
