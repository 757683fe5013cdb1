"""Metaflow's own ``test/core`` matrix, run against core_runtime (or pip ``metaflow``).

    .venv/bin/python -m bench.mfmatrix /path/to/metaflow [--runtime core_runtime|metaflow]

Metaflow's formatter generates one flow per (test, graph) pair of the ``python3-all-local``
context; the only change made to the generated code is where ``metaflow`` modules are imported
from (``rewrite.MODULE_MAP``). Each flow runs with the context's command-line options, resumes
when the test asks for it, and is checked by Metaflow's own ``MetadataCheck`` through our client.
Not part of ``make test``: it needs Metaflow's sources, and takes minutes.
"""
