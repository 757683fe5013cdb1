"""The UI's API types are generated from the backend's OpenAPI document, and are current.

frontend/src/api/openapi.gen.json is what `python -m backend.openapi` prints now, and
frontend/src/api/schema.gen.ts is what openapi-typescript makes of it; `make api-types`
refreshes both. A change to a resource's schema that is not regenerated fails here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
API = REPO / "frontend" / "src" / "api"
GENERATOR = REPO / "frontend" / "node_modules" / ".bin" / "openapi-typescript"


def test_openapi_document_is_current() -> None:
    now = subprocess.run([sys.executable, "-m", "backend.openapi"], cwd=REPO, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    assert now == (API / "openapi.gen.json").read_text(), "the OpenAPI document changed: run make api-types"


def test_typescript_types_are_current(tmp_path: Path) -> None:
    if not GENERATOR.exists():
        pytest.skip("frontend/node_modules has no openapi-typescript (make frontend installs it)")
    out = tmp_path / "schema.gen.ts"
    subprocess.run([str(GENERATOR), str(API / "openapi.gen.json"), "-o", str(out)], cwd=REPO / "frontend",
                   capture_output=True, text=True, timeout=120, check=True)
    assert out.read_text() == (API / "schema.gen.ts").read_text(), \
        "schema.gen.ts is not what openapi-typescript makes of openapi.gen.json: run make api-types"
