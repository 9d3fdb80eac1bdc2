"""The cluster's failure tests import the gateway tests' helpers by name (`gateway_support`:
the PostgreSQL URL and its skip mark) beside their own (`cluster_support`)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway"))
