"""A plain (non-editable) install from a wheel runs with its built-in plugins and example flows.

The backend used to find plugins/ and examples/ beside its package only (a checkout, an editable
install): installed from a wheel it sat in site-packages without them, and /api/-/plugins,
/api/openapi.json (the manifest schema), the plugin SDK and `flowscope demo`'s default examples
failed with FileNotFoundError. The build now copies both folders into the package
(setup.py; backend/shipped.py finds them).

The wheel is built from a copy of the source (pip wheel --no-deps, build isolation: setuptools from
the package index), so the checkout gets no build/ or egg-info; it is installed with pip into a
fresh venv that borrows the test venv's dependencies through a path file, without its .pth files
(so the editable install's import hook, which maps `backend` to this checkout, is not there).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.server_procs import free_port, start_server, stop_server

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md",
           "contract", "core_runtime", "backend", "plugins", "examples")
JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules", "*.egg-info", "build", "_shipped")


def _files(folder: str) -> set[str]:
    """The repository's files under plugins/ or examples/, relative to the repository."""
    root = REPO / folder
    return {p.relative_to(REPO).as_posix() for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def _run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False, **kwargs)
    assert result.returncode == 0, f"{args[:4]} exited {result.returncode}:\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=JUNK)
        else:
            shutil.copy2(path, src / name)
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)])
    [built] = out.glob("flowscope-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--without-pip", str(root)])
    python = root / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
                .stdout.strip())
    (site / "deps-from-test-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)])
    return root


def _installed(venv: Path, code: str) -> Any:
    """What ``code`` (setting ``out``) finds, run by the venv's Python outside the checkout."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("FLOWSCOPE_")}
    result = _run([str(venv / "bin" / "python"), "-c", f"import json\n{code}\nprint(json.dumps(out))"],
                  cwd=str(venv), env=env)
    return json.loads(result.stdout)


def test_the_wheel_holds_the_plugins_and_the_examples(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = _files("plugins") | _files("examples")
    assert {"plugins/manifest.schema.json", "plugins/sdk/flowscope-plugin.js",
            "examples/linear_train.py"} <= wanted
    assert {f"backend/_shipped/{name}" for name in wanted} <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_the_installed_backend_finds_them_inside_its_package(venv: Path) -> None:
    found = _installed(venv, (
        "import backend\n"
        "from backend.demo import EXAMPLES\n"
        "from backend.plugins.manifest import PLUGINS_ROOT, manifest_schema\n"
        "out = [backend.__file__, str(PLUGINS_ROOT), str(EXAMPLES), manifest_schema()['title'],\n"
        "       sorted(p.name for p in EXAMPLES.glob('*.py'))]"))
    package = Path(found[0]).parent
    assert package.is_relative_to(venv), f"backend imported from {package}, not the venv"
    assert (found[1], found[2]) == (str(package / "_shipped" / "plugins"), str(package / "_shipped" / "examples"))
    assert found[3] == json.loads((REPO / "plugins" / "manifest.schema.json").read_text())["title"]
    assert found[4] == sorted(p.name for p in (REPO / "examples").glob("*.py"))


def test_the_installed_server_lists_and_serves_its_plugins(venv: Path, flowscope_env: dict[str, str],
                                                           tmp_path: Path) -> None:
    env = {k: v for k, v in flowscope_env.items() if k != "PYTHONPATH"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server([str(venv / "bin" / "flowscope"), "serve", "--port", str(port), "--no-ingest"],
                          env, tmp_path / "serve.log", f"{base}/api/-/version")
    try:
        with urllib.request.urlopen(f"{base}/api/-/plugins", timeout=30) as resp:
            plugins = json.load(resp)["data"]
        with urllib.request.urlopen(f"{base}/-/plugins/sdk/flowscope-plugin.js", timeout=30) as resp:
            sdk = resp.read()
        with urllib.request.urlopen(f"{base}/api/openapi.json", timeout=30) as resp:
            openapi = json.load(resp)
    finally:
        stop_server(server)
    builtin = {p["id"]: p for p in plugins if p["source"] == "builtin"}
    shipped = {json.loads(m.read_text())["id"] for m in (REPO / "plugins").glob("*/manifest.json")}
    assert set(builtin) == shipped and shipped, plugins
    assert [p["error"] for p in builtin.values()] == [None] * len(builtin)
    assert all(Path(p["folder"]).is_relative_to(venv) for p in builtin.values()), builtin
    assert sdk == (REPO / "plugins" / "sdk" / "flowscope-plugin.js").read_bytes()
    manifest = json.loads((REPO / "plugins" / "manifest.schema.json").read_text())
    assert openapi["components"]["schemas"]["PluginManifest"]["properties"] == manifest["properties"]
