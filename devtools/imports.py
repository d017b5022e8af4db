"""The package's import graph, and its layers: what ``tests/test_package.py`` enforces.

``python -m devtools.imports [ROOT]`` prints the numbers of the tree at ``ROOT`` (default:
this checkout): modules, import edges, edges against the layers, private names imported
from another module (and from another subpackage), and cycles. Every import form counts:
``import pmtgain.a.b``, ``from pmtgain.a import b`` (``b`` a module or a name),
``from . import b``, ``from ..a import b``, inside functions too.

Layers, lowest first: a module may import its own layer and the layers below it.
A tree of flat modules (before the subpackages) is measured with the layer each module
has now (:data:`FLAT`), so that the numbers before and after compare.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

#: the layers, lowest first; ``base`` is the top-level modules
LAYERS = ("base", "io", "point", "results", "report", "condor", "run", "sim", "cli")
#: the doors: they start the command line, so they may import anything
DOORS = {"pmtgain.__main__", "pmtgain.condor.__main__"}
#: the layer of each module of the flat tree (before the subpackages)
FLAT = {**{m: "io" for m in "trc trcwrite flashes align campaign fetch httpclient cache "
           "safeio".split()},
        **{m: "point" for m in "model prepare pulse rootfit engines shape window pedestal "
           "charge scan placement background measure photostat spe anchor point".split()},
        **{m: "results" for m in "store gaincurve lock".split()},
        **{m: "report" for m in "plots diagnostics report browser".split()},
        **{m: "condor" for m in "condor_submit condor_queue condor".split()},
        **{m: "run" for m in "executors job pipeline".split()},
        **{m: "sim" for m in "simulate simpulse simspe regimes demo".split()},
        **{m: "cli" for m in "cli console".split()},
        **{m: "dev" for m in "devpool validate".split()}}


@dataclass
class Graph:
    modules: dict[str, Path]
    edges: set[tuple[str, str]] = field(default_factory=set)
    #: (importer, imported module, name) for every ``_name`` imported from another module
    private: set[tuple[str, str, str]] = field(default_factory=set)

    def layer(self, mod: str) -> str:
        parts = mod.split(".")
        if len(parts) == 1:
            return "base"
        if len(parts) == 2 and self.modules[mod].name != "__init__.py":
            return FLAT.get(parts[1], "base")  # a flat module, or a base one
        return parts[1]

    def rank(self, mod: str) -> int:
        lay = self.layer(mod)
        return LAYERS.index(lay) if lay in LAYERS else len(LAYERS)

    def upward(self) -> set[tuple[str, str]]:
        """Edges from a lower layer to a higher one (doors excepted)."""
        return {(a, b) for a, b in self.edges
                if a not in DOORS and self.rank(a) < self.rank(b)}

    def cross_layer(self) -> set[tuple[str, str]]:
        return {(a, b) for a, b in self.edges if self.layer(a) != self.layer(b)}

    def private_across_subpackages(self) -> set[tuple[str, str, str]]:
        return {p for p in self.private if self.layer(p[0]) != self.layer(p[1])}

    def cycles(self) -> list[list[str]]:
        out, state = [], {}
        succ: dict[str, list[str]] = {}
        for a, b in sorted(self.edges):
            succ.setdefault(a, []).append(b)

        def visit(m, path):
            state[m] = 1
            for d in succ.get(m, []):
                if state.get(d) == 1:
                    out.append(path[path.index(d):] + [d])
                elif d not in state:
                    visit(d, path + [d])
            state[m] = 2

        for m in sorted(self.modules):
            if m not in state:
                visit(m, [m])
        return out


def module_name(root: Path, path: Path) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def graph(root: Path, package: str = "pmtgain") -> Graph:
    """The import graph of ``root/package``: an edge per (importer, imported module)."""
    root = Path(root)
    files = sorted((root / package).rglob("*.py"))
    mods = {module_name(root, p): p for p in files if "__pycache__" not in p.parts}
    g = Graph(mods)
    for mod, path in mods.items():
        is_pkg = path.name == "__init__.py"
        here = mod.split(".") if is_pkg else mod.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.split(".")[0] == package:
                        _add(g, mod, _longest(a.name, mods))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here[:len(here) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.split(".")[0] != package:
                    continue
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    if sub in mods:  # from pkg import module
                        _add(g, mod, sub)
                        continue
                    src = _longest(target, mods)
                    _add(g, mod, src)
                    if a.name.startswith("_") and src and src != mod:
                        g.private.add((mod, src, a.name))
    return g


def _longest(name: str, mods: dict[str, Path]) -> str | None:
    parts = name.split(".")
    while parts:
        if ".".join(parts) in mods:
            return ".".join(parts)
        parts.pop()
    return None


def _add(g: Graph, a: str, b: str | None) -> None:
    if b and b != a:
        g.edges.add((a, b))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0] if argv else Path(__file__).resolve().parents[1])
    g = graph(root)
    print(f"tree: {root}")
    print(f"modules: {len(g.modules)}")
    print(f"import edges: {len(g.edges)}")
    print(f"edges between layers: {len(g.cross_layer())}")
    up = sorted(g.upward())
    print(f"edges against the layers (a lower layer importing a higher one): {len(up)}")
    for a, b in up:
        print(f"  {a} -> {b}")
    print(f"private names imported from another module: {len(g.private)}")
    across = sorted(g.private_across_subpackages())
    print(f"private names imported from another layer: {len(across)}")
    for a, b, n in across:
        print(f"  {a} <- {b}.{n}")
    cyc = g.cycles()
    print(f"cycles: {len(cyc)}")
    for c in cyc:
        print("  " + " -> ".join(c))
    return 0


if __name__ == "__main__":
    sys.exit(main())
