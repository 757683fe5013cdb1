"""HTTP handlers, one module per resource: parse the request, query backend.db, shape the JSON."""
