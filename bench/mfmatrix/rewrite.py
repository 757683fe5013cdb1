"""Pointing the generated code's ``metaflow`` imports at core_runtime.

Every dotted name starting with the package ``metaflow`` (in import statements and in strings
such as ``"metaflow.plugins.catch_decorator.FailureHandledByCatch"``, which name the same
modules) keeps its path with ``metaflow`` replaced by ``core_runtime``: core_runtime has the
modules a flow imports at Metaflow's paths (``exception``, ``cards``, ``client``,
``metaflow_current``, ``plugins.cards.card_client``, ``plugins.catch_decorator`` …). A Metaflow
module it lacks fails with an ImportError naming it. Names of other packages (``metaflow_test``,
``metaflow_extensions``) are left alone.

The only other entries, ``FIXTURES``, are Metaflow's test-only helpers that ship inside its
package (its test card types, ``is_stringish``): our own code in ``bench/mfmatrix/fixtures``
with the behaviour the tests rely on, never shipped with core_runtime.
"""

from __future__ import annotations

import re

FIXTURES = "bench.mfmatrix.fixtures"

MODULE_MAP: dict[str, str] = {
    "metaflow": "core_runtime",
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
