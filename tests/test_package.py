"""The package's shape: layers as subpackages (a layer imports only its own and the ones
below, every import form counted: :mod:`devtools.imports`), no import cycle, no private
name imported from another module, modules of at most 450 lines, a test module for every
module, no main called with an argv list, development tooling outside the package, and
no reference to files outside the repository or to how the project was made."""

import re
import subprocess
from pathlib import Path

from devtools.imports import DOORS, LAYERS, graph

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "pmtgain"
TESTS = ROOT / "tests"
G = graph(ROOT)


def _modules():
    return [p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts]


def test_every_module_sits_in_a_layer():
    assert {G.layer(m) for m in G.modules} <= set(LAYERS)
    top = {p.stem for p in PKG.glob("*.py")}
    assert top == {"__init__", "__main__", "_threads", "config", "errors", "kinds", "parallel"}


def test_no_layer_imports_a_higher_one():
    assert sorted(G.upward()) == []


def test_the_checker_sees_every_import_form(tmp_path):
    """``from . import NAME``, ``from .. import``, ``import a.b`` and imports inside
    functions all make edges (the cycle ``parallel -> pmtgain`` was once hidden)."""
    pkg = tmp_path / "pmtgain"
    (pkg / "io").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from pmtgain.parallel import X\n")
    (pkg / "parallel.py").write_text("from . import Y\nX = 1\n")
    (pkg / "io" / "__init__.py").write_text("")
    (pkg / "io" / "a.py").write_text("def f():\n    from ..cli import main\n")
    (pkg / "io" / "b.py").write_text("import pmtgain.io.a\nfrom .a import _hidden\n")
    (pkg / "cli.py").write_text("")
    g = graph(tmp_path)
    assert ("pmtgain.parallel", "pmtgain") in g.edges
    assert g.cycles() == [["pmtgain", "pmtgain.parallel", "pmtgain"]]
    assert ("pmtgain.io.a", "pmtgain.cli") in g.upward()
    assert ("pmtgain.io.b", "pmtgain.io.a") in g.edges
    assert g.private == {("pmtgain.io.b", "pmtgain.io.a", "_hidden")}


def test_no_import_cycle():
    assert G.cycles() == []


def test_no_private_name_is_imported_from_another_module():
    assert sorted(G.private) == []


def test_every_module_is_at_most_450_lines():
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in _modules()}
    assert {k: v for k, v in sizes.items() if v > 450} == {}


def test_every_module_has_its_test_module():
    missing = []
    for m, p in G.modules.items():
        if m in DOORS or p.name == "__init__.py":
            continue
        parts = m.split(".")[1:]
        sub, leaf = (parts[:-1], parts[-1].lstrip("_"))
        want = TESTS.joinpath(*sub, f"test_{leaf}.py")
        if not want.exists():
            missing.append(str(want.relative_to(ROOT)))
    assert missing == []


def test_the_package_never_calls_its_mains_with_argv():
    pat = re.compile(r"\b(gain_main|run_analysis|condor_main|dirs_main|main)\(\s*\[")
    hits = [str(p) for p in _modules() if pat.search(p.read_text())]
    assert hits == []


def test_development_tooling_stays_outside_the_package():
    hits = [str(p) for p in _modules() if re.search(r"^\s*(from|import) devtools\b",
                                                    p.read_text(), re.M)]
    assert hits == []
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'include = ["pmtgain*"]' in pyproject


LEFTOVERS = re.compile(r"\.\./shared|environment\.md|fit-notes|original-design|real-pulses"
                       r"|seed-README|\bissues? \d+\b|\bthe issue's\b|these machines"
                       r"|an earlier version")


def test_no_reference_outside_the_repository_or_to_how_it_was_made():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    hits = []
    for f in files:
        p = ROOT / f
        if f == "tests/test_package.py" or p.suffix not in {".py", ".md", ".sh", ".toml",
                                                           ".txt", ""} or not p.is_file():
            continue
        try:
            text = p.read_text()
        except UnicodeDecodeError:
            continue
        hits += [f"{f}:{i}: {line.strip()[:80]}" for i, line in
                 enumerate(text.splitlines(), 1) if LEFTOVERS.search(line)]
    assert hits == []


def test_every_module_says_what_it_exports():
    """``__all__`` in every module (a package's ``__init__`` that only describes its modules
    excepted), naming only what the module defines, imports or serves lazily (``_LAZY``)."""
    import ast

    problems = []
    for m, p in G.modules.items():
        tree = ast.parse(p.read_text())
        if m in DOORS or (p.name == "__init__.py" and not any(
                isinstance(n, (ast.Import, ast.ImportFrom)) for n in tree.body)):
            continue
        have, exported = set(), None
        for n in tree.body:
            if isinstance(n, (ast.FunctionDef, ast.ClassDef)):
                have.add(n.name)
            elif isinstance(n, (ast.Import, ast.ImportFrom)):
                have.update((a.asname or a.name).split(".")[0] for a in n.names)
            elif isinstance(n, (ast.Assign, ast.AnnAssign)):
                for t in (n.targets if isinstance(n, ast.Assign) else [n.target]):
                    if isinstance(t, ast.Name):
                        have.add(t.id)
                        if t.id == "__all__":
                            exported = ast.literal_eval(n.value)
                        if t.id == "_LAZY":
                            have.update(ast.literal_eval(n.value))
        if exported is None:
            problems.append(f"{m}: no __all__")
        else:
            problems += [f"{m}: __all__ names {x}, not defined" for x in exported
                         if x not in have]
    assert problems == []
