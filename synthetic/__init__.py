"""A deterministic synthetic Yuyao: the 17 source tables as their providers would submit them.

`generate(out_dir, scale, seed, fmt)` writes ``OUT/<provider>/<table>.csv`` (or ``.parquet``)
for every (provider, table) of the schema registry, and the hidden truth under
``OUT/_truth/``. `rates_markdown()` documents the rates and distributions for the data
dictionary. ID numbers use the unassigned region codes 330290–330299 (see `_ids`).

Names resolve lazily (PEP 562), as in the core packages: mounting `synthetic.cli` costs the
``dexin`` command line nothing until a command generates.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synthetic._docs import rates_markdown as rates_markdown
    from synthetic._generate import GENERATOR_VERSION as GENERATOR_VERSION
    from synthetic._generate import GenerationSummary as GenerationSummary
    from synthetic._generate import generate as generate

_WHERE = {
    "GENERATOR_VERSION": "synthetic._generate",
    "GenerationSummary": "synthetic._generate",
    "generate": "synthetic._generate",
    "rates_markdown": "synthetic._docs",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value
