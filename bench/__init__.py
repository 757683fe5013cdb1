"""Scale tooling: the dataset generator (``bench.seed``) and query-plan checks (``bench.plans``)."""
