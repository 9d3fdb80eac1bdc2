"""What the operator's metrics and log context cost one answer (issue 16 §3).

    .venv/bin/python bench/metrics.py [--answers 200000]

Times, per answer, exactly the calls the answer path makes: the request id bound and reset
(the audit middleware), the answer counted with its duration, the audit commit's latency
observed, a quota unit counted, and the access line offered to a logger that is off (INFO
under the default WARNING). Prints microseconds per answer, against an empty loop.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

from governance import REQUEST_ID, Metrics  # noqa: E402

CONTEXT = {"actor": "bk_x", "role": "bank", "computation": "morality_credit_score"}


def hooks(metrics: Metrics, log: logging.Logger, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        bound = REQUEST_ID.set("req_0123456789")
        metrics.audit_commit_seconds.observe(0.0021)
        metrics.quota_spent("morality_credit_score")
        metrics.answered(CONTEXT, i % 10 != 0, 0.0042)
        log.info("%s %s %d %s %.1f ms", "POST", "/v1/scores", 200, "-", 4.2)
        REQUEST_ID.reset(bound)
    return time.perf_counter() - start


def empty(n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        pass
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--answers", type=int, default=200_000)
    args = parser.parse_args()
    metrics, log = Metrics(), logging.getLogger("query_gateway")
    log.setLevel(logging.WARNING)
    hooks(metrics, log, 1000)  # label children built once, as in a warm gateway
    best = min(hooks(metrics, log, args.answers) - empty(args.answers) for _ in range(5))
    per = best / args.answers * 1e6
    print(f"metrics and log context per answer: {per:.2f} µs "
          f"({per / 1000 * 100:.2f} % of the ~1 ms of CPU a score takes)")  # fmt: skip


if __name__ == "__main__":
    main()
