"""The wheel carries plugins/ and examples/ inside the backend package, at backend/_shipped/.

The running product needs both: the built-in plugins (the manifest schema behind /api/openapi.json
and /api/-/plugins, the plugin SDK, the panels) and the example flows of `flowscope demo`. In the
source tree they sit beside the packages, where a checkout and an editable install find them; a
plain `pip install .` puts the packages in site-packages, so the build copies both folders into
the package (backend/shipped.py looks there first). Everything else is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("plugins", "examples")   # backend/shipped.py names the same folders


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return   # an editable install runs from the source tree, beside both folders
        for name in SHIPPED:
            target = Path(self.build_lib) / "backend" / "_shipped" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(ROOT / name, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPy})
