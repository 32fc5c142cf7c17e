"""The house's arrows: viva (CLI) -> tui -> agent -> (knowledge, rubrics) -> core.

Two checks keep them pointing one way.  One imports every module below ``tui`` in a fresh
interpreter and asserts Textual was not loaded (the engine stays headless).  The other
reads every module below the CLI with :mod:`ast` and fails on an import that points up:
nothing below imports ``viva`` (the CLI) or ``tui``, knowledge and rubrics import neither
agent nor each other, and core imports no other package of viva.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from conftest import REPO

HEADLESS = ("core", "agent", "knowledge", "rubrics")

# package -> the top-level packages of this project it must not import
FORBIDDEN = {
    "core": {"viva", "tui", "agent", "knowledge", "rubrics"},
    "knowledge": {"viva", "tui", "agent", "rubrics"},
    "rubrics": {"viva", "tui", "agent", "knowledge"},
    "agent": {"viva", "tui"},
    "tui": {"viva"},
}
# The offline tools (calibration, training, evaluation, benchmarks, the tests and their
# labelled data) sit beside the house: the shipped packages never reach into them.
OFFLINE = {"evaluation", "benchmarks", "tests", "conftest", "helpers", "fakes"}
RUNTIME = ("core", "agent", "knowledge", "rubrics", "tui", "viva")


def modules(package: str) -> list[str]:
    """Dotted names of every module in ``package``, found by walking its folder."""
    root = REPO / package
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def imported_packages(path: Path) -> set[str]:
    """Top-level package names that a module imports anywhere (also inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_every_module_below_the_tui_imports_without_textual() -> None:
    names = [name for package in HEADLESS for name in modules(package)]
    assert len(names) > 20, names
    script = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print('TEXTUAL' if loaded else 'CLEAN', loaded[:5])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("CLEAN"), done.stdout


def test_no_module_below_the_cli_imports_upward() -> None:
    violations = []
    for package, forbidden in FORBIDDEN.items():
        for path in sorted((REPO / package).rglob("*.py")):
            for name in sorted(imported_packages(path) & forbidden):
                violations.append(f"{path.relative_to(REPO)} imports {name}")
    assert not violations, "\n".join(violations)


def test_no_runtime_module_imports_the_offline_tools_or_reads_tests_data() -> None:
    violations = []
    for package in RUNTIME:
        for path in sorted((REPO / package).rglob("*.py")):
            for name in sorted(imported_packages(path) & OFFLINE):
                violations.append(f"{path.relative_to(REPO)} imports {name}")
            code = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(code):  # a path into tests/ built in code (docstrings may mention it)
                if isinstance(node, ast.Constant) and node.value in ("tests", "benchmarks", "evaluation"):
                    violations.append(f"{path.relative_to(REPO)} names {node.value!r} in code")
    assert not violations, "\n".join(violations)


def test_the_checker_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from viva.cli import main\n    import tui.app\n", encoding="utf-8")
    assert imported_packages(module) == {"viva", "tui"}
