"""A deterministic synthetic Yuyao: the 17 source tables as their providers would submit them.

`generate(out_dir, scale, seed, fmt)` writes ``OUT/<provider>/<table>.csv`` (or ``.parquet``)
for every (provider, table) of the schema registry, and the hidden truth under
``OUT/_truth/``. `rates_markdown()` documents the rates and distributions for the data
dictionary. ID numbers use the unassigned region codes 330290–330299 (see `_ids`).
"""

from __future__ import annotations

from synthetic._docs import rates_markdown
from synthetic._generate import GENERATOR_VERSION, GenerationSummary, generate

__all__ = ["GENERATOR_VERSION", "GenerationSummary", "generate", "rates_markdown"]
