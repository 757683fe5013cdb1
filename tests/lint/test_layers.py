"""The layer rules (pyproject.toml [tool.importlinter]) hold, and break when a layer is crossed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("contract", "core_runtime", "backend", "bench")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _copy_tree(dest: Path) -> None:
    for pkg in PACKAGES:
        shutil.copytree(REPO / pkg, dest / pkg, ignore=shutil.ignore_patterns(
            "__pycache__", "static", "node_modules", "*.sql", "*.html", "*.css", "*.js"))
    (dest / "tests").mkdir()
    (dest / "tests" / "__init__.py").write_text("")
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    lines = ["[importlinter]", "root_packages =", *(f"    {p}" for p in config["root_packages"]),
             "include_external_packages = False"]
    for i, contract in enumerate(config["contracts"]):
        lines += [f"[importlinter:contract:{i}]", f"name = {contract['name']}", f"type = {contract['type']}",
                  "source_modules =", *(f"    {m}" for m in contract["source_modules"]),
                  "forbidden_modules =", *(f"    {m}" for m in contract["forbidden_modules"])]
    (dest / ".importlinter").write_text("\n".join(lines) + "\n")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--config", str(root / ".importlinter"), "--no-cache"],
                          cwd=root, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.parametrize(("module", "added", "broken"), [
    ("backend/app.py", "import core_runtime.flowspec", "The backend does not import the runtime"),
    ("core_runtime/flowspec.py", "import backend.app", "The runtime does not import the backend"),
    ("contract/settings.py", "import core_runtime", "The contract imports nothing of ours"),
    ("backend/cli.py", "import bench.seed", "The backend does not import the runtime"),
])
def test_a_forbidden_import_breaks_its_rule(tmp_path: Path, module: str, added: str, broken: str) -> None:
    if not LINT_IMPORTS.exists():
        pytest.skip("import-linter is not installed in this environment (make install adds it)")
    _copy_tree(tmp_path)
    clean = _lint(tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    path = tmp_path / module
    path.write_text(path.read_text() + f"\n{added}  # added by the test\n")
    crossed = _lint(tmp_path)
    assert crossed.returncode != 0
    assert f"{broken} BROKEN" in crossed.stdout, crossed.stdout


def test_the_ui_server_does_not_load_the_flow_runtime() -> None:
    code = ("import sys, backend.app, backend.cli, backend.ingest.app; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('core_runtime', 'bench')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         timeout=60, check=True).stdout.strip()
    assert out == "[]"
