"""Framework decorators (``@pytorch_parallel``)."""
