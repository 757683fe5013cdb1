"""The mirror of an existing metaflow-service database (docs/metaflow.md, "Beside an existing metadata service")."""
