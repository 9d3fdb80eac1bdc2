"""Where the anvil executable is: the local cluster's JSON-RPC node (`dexin cluster up`)
and the tests' (`ledger.testing`).

It comes from the npm package ``@foundry-rs/anvil-linux-amd64`` (or ``-arm64``), the platform
package of ``@foundry-rs/anvil`` that ships the executable; ``make install`` runs ``npm ci``
and nothing is downloaded at run time.
"""

from __future__ import annotations

import platform
import shutil
from pathlib import Path

__all__ = ["anvil_binary"]

REPO = Path(__file__).resolve().parent.parent
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def anvil_binary() -> Path:
    """The anvil executable from node_modules (or PATH); FileNotFoundError if absent."""
    arch = _ARCH.get(platform.machine().lower(), platform.machine())
    system = platform.system().lower()
    path = REPO / "node_modules" / "@foundry-rs" / f"anvil-{system}-{arch}" / "bin" / "anvil"
    if path.exists():
        return path
    found = shutil.which("anvil")
    if found is None:
        raise FileNotFoundError(f"anvil not found at {path}: run `make install` (npm ci)")
    return Path(found)
