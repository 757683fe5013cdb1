"""Where the folders the product ships beside its code are: plugins/ and examples/.

In a source checkout and an editable install they sit beside the ``backend`` package (the repository
root); in a wheel (``pip install .``) the build put them inside it, at backend/_shipped/ (setup.py).
The copy inside the package wins, so an installed backend never picks up some other distribution's
top-level ``plugins`` or ``examples`` folder in site-packages.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def shipped(name: str) -> Path:
    """The directory of ``plugins`` or ``examples`` this backend runs with."""
    inside = PACKAGE / "_shipped" / name
    return inside if inside.is_dir() else PACKAGE.parent / name
