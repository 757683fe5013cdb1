"""``spin --artifacts-module FILE``: a Python file whose ``ARTIFACTS`` dict injects or overrides
the spun step's inputs.

For a step with one input, ``ARTIFACTS = {"name": value, ...}``. For a join, as in Metaflow, each
key names one input task (``"run_id/step/task_id"``) and maps to that input's artifacts; a plain
step name (``"branch_a"``) applies to every input coming from that step.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any


class ArtifactsModuleError(ValueError):
    """The file cannot be used; the message names it (and the line, for a syntax error)."""


def read_artifacts_module(path: str) -> dict[str, Any]:
    full = os.path.abspath(path)
    if not os.path.isfile(full):
        raise ArtifactsModuleError(f"--artifacts-module {path}: no such file")
    name = "_flowscope_spin_artifacts_" + os.path.splitext(os.path.basename(full))[0]
    spec = importlib.util.spec_from_file_location(name, full)
    if spec is None or spec.loader is None:
        raise ArtifactsModuleError(f"--artifacts-module {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise ArtifactsModuleError(f"{full}:{exc.lineno}: {exc.msg}") from None
    except Exception as exc:  # noqa: BLE001 - any error in the user's module is reported, not raised
        raise ArtifactsModuleError(f"--artifacts-module {full} failed to load: "
                                   f"{type(exc).__name__}: {exc}") from None
    found = getattr(module, "ARTIFACTS", None)
    if found is None:
        raise ArtifactsModuleError(f"--artifacts-module {full} defines no ARTIFACTS dict")
    if not isinstance(found, dict) or not all(isinstance(k, str) and k for k in found):
        raise ArtifactsModuleError(f"--artifacts-module {full}: ARTIFACTS must be a dict with "
                                   "artifact names (strings) as keys")
    return dict(found)


def split_for_join(artifacts: dict[str, Any], input_paths: list[str], path: str) -> dict[str, dict[str, Any]]:
    """For a join: input path ("step/task_id") -> the artifacts injected into that input."""
    out: dict[str, dict[str, Any]] = {p: {} for p in input_paths}
    for key, value in artifacts.items():
        if not isinstance(value, dict):
            raise ArtifactsModuleError(
                f"--artifacts-module {path}: the spun step is a join, so ARTIFACTS maps each input "
                f"('<run_id>/<step>/<task_id>' or '<step>') to a dict of artifacts; {key!r} maps to a "
                f"{type(value).__name__}")
        parts = key.strip("/").split("/")
        hits = [p for p in input_paths
                if (len(parts) == 1 and p.split("/")[0] == parts[0]) or "/".join(parts[-2:]) == p]
        if not hits:
            raise ArtifactsModuleError(f"--artifacts-module {path}: {key!r} names no input of the join "
                                       f"(inputs: {', '.join(input_paths)})")
        for p in hits:
            out[p].update(value)
    return out
