"""The one translation of Metaflow's records into Flowscope's rows (ingest service and mirror)."""
