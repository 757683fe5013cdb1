"""Settings of the Metaflow ingest service, declared into the shared registry."""

from core_runtime.settings import Setting, declare

declare(
    Setting("ingest_port", 8084, int, "Port of the Metaflow ingest service (the metadata-service "
            "API that the metaflow client writes to: METAFLOW_SERVICE_URL)."),
    Setting("ingest_host", "127.0.0.1", str, "Address the Metaflow ingest service listens on."),
    Setting("ingest_token", None, str, "If set, the ingest service requires this token in the "
            "x-api-key header (METAFLOW_SERVICE_AUTH_KEY) or as 'Authorization: Bearer'.",
            secret=True),
    Setting("ingest_heartbeat_interval", 10, int, "Seconds between heartbeats that the ingest "
            "service asks metaflow clients for."),
)
