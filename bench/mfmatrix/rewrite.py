"""Pointing the generated code's ``metaflow`` imports at core_runtime.

Every dotted name starting with the package ``metaflow`` (in import statements and in strings
such as ``"metaflow.exception.ExternalCommandFailed"``, which name the same modules) is mapped by
the longest matching prefix in MODULE_MAP. Names of other packages (``metaflow_test``,
``metaflow_extensions``) are left alone. A Metaflow module with no entry keeps its path under
``core_runtime``, so a flow needing it fails with an ImportError naming it.

Most entries are user-facing modules. The ``FIXTURES`` entries are Metaflow's test-only helpers
(its test card types, ``is_stringish``): our own code in ``bench/mfmatrix/fixtures`` with the
behaviour the tests rely on, never shipped with core_runtime.
"""

from __future__ import annotations

import re

FIXTURES = "bench.mfmatrix.fixtures"

MODULE_MAP: dict[str, str] = {
    "metaflow": "core_runtime",
    "metaflow.exception": "core_runtime.exception",
    "metaflow.cards": "core_runtime.cards",
    "metaflow.client": "core_runtime.client",
    "metaflow.metaflow_current": "core_runtime.current",
    "metaflow.includefile": "core_runtime.includefile",
    "metaflow.plugins.cards.exception": "core_runtime.cards",
    "metaflow.plugins.cards.card_client": "core_runtime.cards",
    "metaflow.plugins.timeout_decorator": "core_runtime.exception",
    "metaflow.plugins.catch_decorator": "core_runtime.exception",
    "metaflow.plugins.cards.card_modules.test_cards": f"{FIXTURES}.test_cards",
    "metaflow.util": f"{FIXTURES}.util",
}

_NAME = re.compile(r"(?<![\w.])metaflow((?:\.[A-Za-z_]\w*)*)(?!\w)")


def map_name(dotted: str) -> str:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        prefix = ".".join(parts[:cut])
        if prefix in MODULE_MAP:
            return ".".join([MODULE_MAP[prefix], *parts[cut:]])
    return "core_runtime." + dotted.partition(".")[2] if "." in dotted else "core_runtime"


def rewrite(source: str) -> str:
    return _NAME.sub(lambda m: map_name("metaflow" + m.group(1)), source)
