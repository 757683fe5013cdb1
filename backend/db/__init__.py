"""SQL of the backend, one module per resource: named constants and typed async functions."""
