"""The package's shape, checked where the README's test command runs it: layer contracts (import-linter),
no import cycle between any two modules, types in core and store (mypy), and dependencies that match what
annotator/ imports, in both directions."""

from __future__ import annotations

import ast
import functools
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "annotator"


def _tool(name: str) -> str:
    """A console script of this environment (beside its python), else one on PATH."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return found


def test_import_contracts_hold():
    """pyproject's [tool.importlinter] contracts: arrows point down, the core stays pure."""
    result = subprocess.run([_tool("lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def _import_cycles(graph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each one a cycle of imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return cycles


def test_no_import_cycle_between_any_two_modules():
    """Stricter than the contracts (which compare packages): any import, even inside a function, counts."""
    import grimp

    graph = grimp.build_graph("annotator", cache_dir=None)
    assert len(graph.modules) > 50
    assert _import_cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    class Graph:  # a -> b -> c -> a, and d -> a
        edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
        modules = set(edges)

        def find_modules_directly_imported_by(self, module):
            return self.edges[module]

    assert _import_cycles(Graph()) == [["a", "b", "c"]]


@pytest.mark.slow
def test_core_and_store_type_check():
    """mypy with pyproject's [tool.mypy] settings (files: annotator/core, annotator/store)."""
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_lint_is_clean():
    """ruff with pyproject's chosen rules over the package, the tests and the benchmarks."""
    result = subprocess.run([_tool("ruff"), "check", "--no-cache", "annotator", "tests", "benchmarks"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


# --- dependencies ---------------------------------------------------------------------------------


def _top_level_imports(folder: Path) -> set[str]:
    """Top-level names of every absolute import in folder's .py files, function-level imports included."""
    names = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def _third_party(names: set[str], *, own: set[str]) -> set[str]:
    return {n for n in names if n not in sys.stdlib_module_names and n not in own and n != "__future__"}


def _canonical(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def _declared(requirements: list[str]) -> set[str]:
    return {_canonical(re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0]) for r in requirements}


def _distribution_of(module: str) -> set[str]:
    return {_canonical(d) for d in _installed_modules().get(module, [])}


@functools.cache
def _installed_modules() -> dict[str, list[str]]:
    """Top-level module -> distributions providing it (read once: it scans every installed package)."""
    return packages_distributions()


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_runtime_dependencies_are_what_the_package_imports():
    """Every third-party import of annotator/ is declared, and every declared dependency is imported
    (not merely needed by another dependency: streamlit brings pyarrow itself)."""
    declared = _declared(PROJECT["dependencies"])
    imported = _third_party(_top_level_imports(PACKAGE), own={"annotator"})
    providers = {module: _distribution_of(module) for module in imported}
    undeclared = {module: dists for module, dists in providers.items() if not dists & declared}
    assert not undeclared, f"imported but not in [project.dependencies]: {undeclared}"
    used = set().union(*providers.values())
    assert declared - used == set(), "declared but never imported by annotator/"


def test_tests_import_only_declared_packages():
    declared = _declared(PROJECT["dependencies"]) | _declared(PROJECT["optional-dependencies"]["test"])
    local = {path.stem for path in (ROOT / "tests").glob("*.py")} | {"annotator", "tests"}
    imported = _third_party(_top_level_imports(ROOT / "tests"), own=local)
    undeclared = {module for module in imported if not _distribution_of(module) & declared}
    assert not undeclared, f"tests import packages no extra declares: {undeclared}"


def test_streamlit_runs_the_app_from_a_folder_of_its_own():
    """Streamlit puts the script's folder first on sys.path: only the launcher may be found there."""
    import annotator.app
    from annotator.cli import serve

    launch = Path(annotator.app.__file__).parent / "launch"
    assert sorted(p.name for p in launch.iterdir() if p.suffix == ".py") == ["__init__.py", "streamlit_app.py"]
    assert launch / "streamlit_app.py" == serve.APP


def test_version_has_one_source():
    """pyproject's version, as installed, is what `annotator.__version__` and `annotator --version` say."""
    from importlib.metadata import version

    from click.testing import CliRunner

    import annotator
    from annotator.cli.main import cli

    assert annotator.__version__ == version(annotator.DISTRIBUTION)
    assert annotator.__version__ == PROJECT["version"], "pyproject's version changed: reinstall (pip install -e .)"
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and result.output.strip().endswith(f"version {annotator.__version__}")
    with pytest.raises(AttributeError):
        annotator.no_such_name  # noqa: B018
