"""The package's shape: modules of at most 450 lines, no import cycle, a test module for
every package module, and no module calling the package's own mains with an argv list."""

import ast
import re
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "pmtgain"
TESTS = Path(__file__).resolve().parent
DOORS = {"__init__", "__main__"}  # covered by tests/test_cli.py


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                out.add(node.module.split(".")[0])
            else:
                out.update(a.name for a in node.names)
    return out


def test_every_module_is_at_most_450_lines():
    sizes = {p.name: len(p.read_text().splitlines()) for p in PKG.glob("*.py")}
    assert {k: v for k, v in sizes.items() if v > 450} == {}


def test_no_import_cycle():
    mods = {p.stem: p for p in PKG.glob("*.py")}
    graph = {m: _imports(p) & set(mods) for m, p in mods.items()}
    state: dict[str, int] = {}

    def visit(m, path):
        state[m] = 1
        for d in graph[m]:
            assert state.get(d) != 1, " -> ".join(path + [d])
            if d not in state:
                visit(d, path + [d])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])


def test_every_module_has_its_test_module():
    missing = [p.stem for p in PKG.glob("*.py") if p.stem not in DOORS
               and not (TESTS / f"test_{p.stem}.py").exists()]
    assert missing == []


def test_the_package_never_calls_its_mains_with_argv():
    pat = re.compile(r"\b(gain_main|run_analysis|condor_main|main)\(\s*\[")
    hits = [p.name for p in PKG.glob("*.py") if pat.search(p.read_text())]
    assert hits == []
