"""`QuotaFlusher`: writes the quota counts the answer path spends in memory, behind it.

With one gateway process (SQLite), `ControlPlane.spend_quota` counts in memory (one lock, no
database round trip per answer); this thread writes the counts every ``interval`` seconds and
once more when the gateway stops. A crash loses at most one interval of counts, and start-up
recovers them from the audit log (`ControlPlane.reconcile_quotas`), so a quota is never spent
twice over. Answer workers sharing a PostgreSQL control plane spend each unit in the database
as they answer; nothing is left for this thread to write.
"""

from __future__ import annotations

import logging
import threading

from governance.control import ControlPlane

log = logging.getLogger("query_gateway")


class QuotaFlusher:
    def __init__(self, control: ControlPlane, interval: float = 0.2) -> None:
        self._control = control
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="quota-flusher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._flush()

    def _flush(self) -> None:
        try:
            self._control.flush_quotas()
        except Exception as exc:  # the database is away: keep counting, write next round
            log.warning("quota counts not written yet (%s); retrying", type(exc).__name__)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._flush()
