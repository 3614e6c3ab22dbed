"""The package as it installs: the wheel holds every module and migration, the prompt classifier's
weights and training prompts, and nothing of tests/.

.ci/wheel-check goes further (a fresh virtual environment, the bot run from the wheel); these
checks are the quick part that runs with the rest of the suite."""
from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("bot", "cogs", "migrations")


def _tracked_files() -> list[str]:
    """Files a clean clone has: tracked, plus new files git does not ignore."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed: cannot tell which files a clean clone has")
    result = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"not a git checkout: {result.stderr.strip()}")
    return [name for name in result.stdout.splitlines() if (ROOT / name).is_file()]


def test_the_wheel_holds_every_module_and_migration_and_no_tests(tmp_path):
    files = _tracked_files()
    source = tmp_path / "src"
    for name in files:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    # No build isolation: it uses this environment's setuptools (the test extra has it), no index.
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
         str(tmp_path / "dist"), str(source)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = (tmp_path / "dist").glob("pixelforge-*.whl")
    names = {name for name in zipfile.ZipFile(wheel).namelist() if not name.startswith("pixelforge-")}

    expected = {name for name in files if name.startswith(tuple(f"{p}/" for p in PRODUCT))
                and (name.endswith((".py", ".sql", ".npz")) or name.startswith(("bot/safety/training/",
                                                                                 "bot/web/static/",
                                                                                 "bot/locale/")))}
    assert {name for name in expected if name.startswith("migrations/") and name.endswith(".sql")}
    # SAFETY_PROMPT_CLASSIFIER=builtin loads these weights from the installed package.
    assert "bot/safety/prompt_classifier.npz" in names
    # The web front end's vendored scripts and stylesheet are served from the installed package.
    assert {"bot/web/static/htmx-2.0.8.min.js", "bot/web/static/style.css"} <= names
    # The message catalogues are read from the installed package (bot/i18n.py).
    assert {"bot/locale/fr/LC_MESSAGES/pixelforge.po", "bot/locale/de/LC_MESSAGES/pixelforge.po"} <= names
    assert sorted(expected - names) == [], "source files missing from the wheel"
    assert sorted(names - expected) == [], "files in the wheel that the source tree does not have"


def test_every_product_folder_with_python_files_is_a_package():
    # Package discovery (pyproject.toml) skips folders without __init__.py, silently.
    folders = {path.parent for top in PRODUCT for path in (ROOT / top).rglob("*.py")
               if "__pycache__" not in path.parts}
    assert sorted(str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").exists()) == []


def _imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_product_code_never_imports_tests():
    offenders = sorted(
        f"{path.relative_to(ROOT)}: {module}"
        for top in ("bot", "cogs") for path in (ROOT / top).rglob("*.py")
        for module in _imported_modules(path) if module == "tests" or module.startswith("tests."))
    assert offenders == []


def test_ci_runs_the_readme_test_command_verbatim_then_the_wheel_check():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Run the tests", 1)[1]
    command = re.search(r"```bash\n(.+?)\n```", section, re.S).group(1).strip()
    assert "\n" not in command and "pytest" in command and "ruff check ." in command
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert command in lines
    assert any(line.startswith(".ci/wheel-check") or line.startswith("bash .ci/wheel-check")
               for line in lines[lines.index(command) + 1:])
