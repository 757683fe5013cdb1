"""SQL of the ingest service: named constants and small typed async functions, no HTTP."""
