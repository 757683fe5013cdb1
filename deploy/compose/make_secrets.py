"""First start of docker-compose.yml: make the deployment's secrets, once, each only where it is needed.

Run by the one-shot ``secrets`` service (as root, before anything else). Every password and key
comes from the environment when set there (``.env`` or the shell: POSTGRES_PASSWORD,
READER_PASSWORD, MINIO_ROOT_USER, MINIO_ROOT_PASSWORD, UI_S3_SECRET, WRITER_S3_SECRET,
FLOWSCOPE_INGEST_TOKEN), else from the previous start, else it is generated (256 random bits).
Nothing is fixed in the compose file or the image.

Each service mounts only its own directory, read-only:

* ``postgres/password``: the superuser's password (POSTGRES_PASSWORD_FILE);
* ``minio/env``: MinIO's root credentials and the two S3 users the bucket job creates;
* ``writer/env``: the writer DSN, the reader's password (``flowscope migrate`` sets it), the
  read-write S3 user and the ingest token (migrate, ingest, demo);
* ``ui/env``: the reader DSN and the read-only S3 user — nothing that can write.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from urllib.parse import quote

ROOT = Path(sys.argv[1] if len(sys.argv) > 1 else "/secrets")
APP_UID = 10001        # the flowscope image's user
POSTGRES_UID = 999     # the postgres image's user
UI_S3_USER, WRITER_S3_USER = "flowscope-ui", "flowscope-writer"

NAMES = ("POSTGRES_PASSWORD", "READER_PASSWORD", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "UI_S3_SECRET",
         "WRITER_S3_SECRET", "FLOWSCOPE_INGEST_TOKEN")


def _value(name: str, kept: dict[str, str]) -> str:
    given = os.environ.get(name, "").strip()
    if given:
        return given
    if kept.get(name):
        return kept[name]
    return ("flowscope-admin-" + secrets.token_hex(4)) if name == "MINIO_ROOT_USER" else secrets.token_hex(32)


def _env_file(values: dict[str, str]) -> str:
    return "".join(f"export {k}='{v}'\n" for k, v in values.items())


def _write(path: Path, text: str, uid: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.chmod(tmp, 0o400)
    tmp.replace(path)
    if os.geteuid() == 0:
        os.chown(path.parent, uid, uid)
        os.chown(path, uid, uid)


def _read_kept(root: Path) -> dict[str, str]:
    kept_file = root / "kept" / "values"
    if not kept_file.exists():
        return {}
    return dict(line.split("=", 1) for line in kept_file.read_text().splitlines() if "=" in line)


def _check(name: str, value: str) -> None:
    if "'" in value or "\n" in value:
        sys.exit(f"secrets: {name} cannot contain a quote or a newline")


def main() -> None:
    kept = _read_kept(ROOT)
    v = {name: _value(name, kept) for name in NAMES}
    for name, value in v.items():
        _check(name, value)
    generated = [name for name in NAMES if not os.environ.get(name, "").strip() and name not in kept]
    db = "postgres:5432/flowscope"
    writer_dsn = f"postgresql://flowscope:{quote(v['POSTGRES_PASSWORD'], safe='')}@{db}"
    reader_dsn = f"postgresql://flowscope_reader:{quote(v['READER_PASSWORD'], safe='')}@{db}"
    _write(ROOT / "kept" / "values", "".join(f"{k}={x}\n" for k, x in v.items()), 0)
    _write(ROOT / "postgres" / "password", v["POSTGRES_PASSWORD"], POSTGRES_UID)
    _write(ROOT / "minio" / "env", _env_file({
        "MINIO_ROOT_USER": v["MINIO_ROOT_USER"], "MINIO_ROOT_PASSWORD": v["MINIO_ROOT_PASSWORD"],
        "UI_S3_USER": UI_S3_USER, "UI_S3_SECRET": v["UI_S3_SECRET"],
        "WRITER_S3_USER": WRITER_S3_USER, "WRITER_S3_SECRET": v["WRITER_S3_SECRET"]}), 0)
    _write(ROOT / "writer" / "env", _env_file({
        "FLOWSCOPE_DSN": writer_dsn, "FLOWSCOPE_READER_DSN": reader_dsn,
        "AWS_ACCESS_KEY_ID": WRITER_S3_USER, "AWS_SECRET_ACCESS_KEY": v["WRITER_S3_SECRET"],
        "FLOWSCOPE_INGEST_TOKEN": v["FLOWSCOPE_INGEST_TOKEN"]}), APP_UID)
    _write(ROOT / "ui" / "env", _env_file({
        "FLOWSCOPE_READER_DSN": reader_dsn,
        "AWS_ACCESS_KEY_ID": UI_S3_USER, "AWS_SECRET_ACCESS_KEY": v["UI_S3_SECRET"]}), APP_UID)
    made = ", ".join(generated) or "none (all kept or given)"
    print(f"secrets: ready; generated now: {made}. The ingest token (METAFLOW_SERVICE_AUTH_KEY): "
          "docker compose exec ingest sh -c '. /run/flowscope/env && echo $FLOWSCOPE_INGEST_TOKEN'")


if __name__ == "__main__":
    main()
