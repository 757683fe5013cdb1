"""What environment a step asks for: @pypi / @conda on the step, over @pypi_base / @conda_base on
the flow (the step's packages win, its python= and disabled= too when given), as in Metaflow.

There is no conda channel to reach from here, so @conda's packages are installed from the Python
package index as well; ``EnvSpec.requirements()`` turns conda version specs into pip ones.
An environment is identified by the hash of what goes into it, so steps (and runs) asking for
the same packages share one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from core_runtime.decorators import DecoratorError, find_decorator

KINDS = ("pypi", "conda")
# Conda package names that are published under another name on the package index.
CONDA_TO_PYPI = {"pytorch": "torch", "py-xgboost": "xgboost", "pytables": "tables",
                 "tensorflow-base": "tensorflow", "matplotlib-base": "matplotlib"}
# Conda packages that are not Python packages at all: nothing to install with pip.
CONDA_ONLY = {"python", "pip", "setuptools", "wheel", "libgcc", "libstdcxx-ng", "openssl", "ca-certificates"}


@dataclass(frozen=True)
class EnvSpec:
    kind: str                                   # "pypi" | "conda"
    packages: tuple[tuple[str, str], ...]       # (name, version spec as written), sorted
    python: str | None                          # as asked: "3.12", "3.11.7", None = this one
    skipped: tuple[str, ...] = field(default=())  # conda-only names left out

    def requirements(self) -> list[str]:
        """pip requirement strings."""
        out = []
        for name, version in self.packages:
            pip_name = CONDA_TO_PYPI.get(name, name) if self.kind == "conda" else name
            out.append(pip_name + _pip_version(version, conda=self.kind == "conda"))
        return out

    def describe(self) -> str:
        reqs = ", ".join(self.requirements()) or "no packages"
        return f"{self.kind}: {reqs}"

    def key(self, python_version: str) -> str:
        """The environment's identity: the interpreter it is built on and what pip installs."""
        doc = {"python": python_version, "requirements": sorted(self.requirements())}
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def _pip_version(version: str, *, conda: bool) -> str:
    v = str(version or "").strip()
    if not v:
        return ""
    if v.startswith(("<", ">", "!", "~", "@", "==")):
        return v if not v.startswith("@") else " " + v
    if conda and v.startswith("=") and not v.startswith("=="):
        return f"=={v[1:]}.*"           # conda's "=1.2" means any 1.2.x
    return f"=={v}"


def _attrs(deco: Any) -> dict[str, Any]:
    return dict(deco.attributes) if deco is not None else {}


def step_env(flow_cls: type, step: str) -> EnvSpec | None:
    """The environment ``step`` runs in; None for the runtime's own interpreter."""
    fn = getattr(flow_cls, step)
    pypi, conda = find_decorator(fn, "pypi"), find_decorator(fn, "conda")
    if pypi is not None and conda is not None:
        raise DecoratorError(f"step {step!r} has both @pypi and @conda: use one of them")
    base = flow_environment_base(flow_cls)
    if pypi is not None or conda is not None:
        kind = "pypi" if pypi is not None else "conda"
        step_attrs = _attrs(pypi if pypi is not None else conda)
    elif base is not None:
        kind, step_attrs = base[0], {}
    else:
        return None
    base_attrs = base[1] if base is not None and base[0] == kind else {}
    packages = {**base_attrs.get("packages", {}), **step_attrs.get("packages", {})}
    python = step_attrs.get("python") or base_attrs.get("python")
    disabled = step_attrs.get("disabled")
    if disabled is None:
        disabled = base_attrs.get("disabled")
    if disabled:
        return None
    skipped = tuple(sorted(n for n in packages if kind == "conda" and n in CONDA_ONLY))
    kept = tuple(sorted((str(n), str(v)) for n, v in packages.items() if n not in skipped))
    return EnvSpec(kind, kept, str(python) if python else None, skipped)


def flow_environment_base(flow_cls: type) -> tuple[str, dict[str, Any]] | None:
    """(kind, attributes) of the flow's @pypi_base / @conda_base, if any."""
    found = [(k, a) for k, a in getattr(flow_cls, "_fs_environment_base", {}).items()]
    if len(found) > 1:
        raise DecoratorError(f"flow {flow_cls.__name__} has both @pypi_base and @conda_base: use one")
    return found[0] if found else None
