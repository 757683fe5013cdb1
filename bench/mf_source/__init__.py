"""A metaflow-service database for the mirror's tests and benchmark: schema, generator."""
