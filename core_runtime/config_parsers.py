"""Parsers a Config can name instead of passing a function: ``Config("env", parser="yaml_parser")``.

``BY_NAME`` also accepts the dotted names Metaflow gives its own parsers, so a flow written for
Metaflow (``parser="metaflow.plugins.parsers.yaml_parser"``) keeps working without Metaflow.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

try:  # Python 3.11+
    import tomllib
except ImportError:  # pragma: no cover
    tomllib = None  # type: ignore[assignment]


def json_parser(content: str) -> Any:
    return json.loads(content)


def toml_parser(content: str) -> Any:
    if tomllib is None:  # pragma: no cover
        raise RuntimeError("TOML needs Python 3.11+")
    return tomllib.loads(content)


def yaml_parser(content: str) -> Any:
    try:
        import yaml
    except ImportError:
        raise RuntimeError("the YAML parser needs PyYAML (pip install pyyaml)") from None
    return yaml.safe_load(content)


_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*?)\s*$")


def requirements_txt_parser(content: str) -> dict[str, Any]:
    """``{"packages": {name: version spec}, "python": None}`` from a requirements.txt."""
    packages: dict[str, str] = {}
    for raw in content.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        m = _REQUIREMENT.match(line.split(";", 1)[0])
        if not m:
            raise ValueError(f"cannot read the requirement {raw.strip()!r}")
        name, _extras, spec = m.groups()
        spec = spec.strip()
        packages[name] = spec.removeprefix("==")
    return {"packages": packages, "python": None}


def pyproject_toml_parser(content: str) -> dict[str, Any]:
    """``{"packages": {...}, "python": spec}`` from a pyproject.toml's [project] table."""
    project = toml_parser(content).get("project", {})
    parsed = requirements_txt_parser("\n".join(project.get("dependencies", [])))
    parsed["python"] = project.get("requires-python")
    return parsed


_CONDA_DEP = re.compile(r"^([A-Za-z0-9_.-]+)\s*([=<>!~].*)?$")


def conda_environment_yml_parser(content: str) -> dict[str, Any]:
    """``{"packages": {name: version spec}, "python": spec}`` from the ``dependencies:`` list of a
    conda environment.yml (``numpy=1.26``, ``pandas>=2``, ``python=3.11``); a nested section such
    as ``- pip:`` or a line that is no package spec is a ValueError naming the line."""
    packages: dict[str, str] = {}
    python: str | None = None
    in_deps = False
    for raw in content.splitlines():
        line = re.sub(r"\s+#.*$", "", raw.strip()) if not raw.strip().startswith("#") else ""
        if not line:
            continue
        if line.lower().startswith("dependencies:"):
            in_deps = True
            continue
        if not in_deps or not line.startswith("-"):
            in_deps = in_deps and line.startswith("-")
            continue
        dep = line[1:].strip()
        if dep.endswith(":"):
            raise ValueError(f"environment.yml: the section {dep!r} is not supported")
        m = _CONDA_DEP.match(dep)
        if not m:
            raise ValueError(f"environment.yml: {dep!r} is not a conda package spec")
        name, spec = m.group(1), (m.group(2) or "").strip()
        spec = spec.lstrip("=").strip() if spec.startswith("=") else spec
        if name.lower() == "python":
            if python is not None and spec:
                raise ValueError(f"environment.yml: more than one Python version ({dep!r})")
            python = spec
        else:
            packages[name] = spec
    return {"packages": packages, "python": python}


BY_NAME: dict[str, Callable[[str], Any]] = {}
for _fn in (json_parser, toml_parser, yaml_parser, requirements_txt_parser, pyproject_toml_parser,
            conda_environment_yml_parser):
    BY_NAME[_fn.__name__] = _fn
    BY_NAME[f"core_runtime.config_parsers.{_fn.__name__}"] = _fn
BY_NAME["metaflow.plugins.parsers.yaml_parser"] = yaml_parser
BY_NAME[".plugins.parsers.yaml_parser"] = yaml_parser
for _name in ("requirements_txt_parser", "pyproject_toml_parser", "conda_environment_yml_parser"):
    BY_NAME[f"metaflow.plugins.pypi.parsers.{_name}"] = BY_NAME[_name]
    BY_NAME[f".plugins.pypi.parsers.{_name}"] = BY_NAME[_name]
