"""What every process tells Prometheus: counts and timings, never who or what was said.

Each process defines its metrics beside the code they measure (names start `sportello_`);
`exposition()` renders this process's registry for a `GET /metrics` on its own loopback
listener. Labels are route templates, action names, outcomes — nothing personal.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

# Turn-sized buckets: a chat turn is tens of milliseconds to a few seconds.
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Waiting for a person: seconds to hours.
WAITING = (10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400)

CONTENT_TYPE = CONTENT_TYPE_LATEST.split(";")[0]


def exposition() -> bytes:
    """This process's metrics in Prometheus' text format."""
    return generate_latest(REGISTRY)


__all__ = ["CONTENT_TYPE", "SECONDS", "WAITING", "Counter", "Gauge", "Histogram", "exposition"]
