"""A worker's Prometheus endpoint, when COB_METRICS_ADDRESS (host:port) is set: the SDK's own
telemetry (temporal_* metrics of workflows, activities, polls and slots: a temporalio
Runtime with a PrometheusConfig), the engine's counters that activities/metrics.py emits
through the same meter, and the open tasks of the ledger's worklist, read every 30 seconds.
Off by default. Every worker reads the same ledger, so each reports the same tasks open.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping

from sqlalchemy.engine import Engine
from temporalio.common import MetricMeter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from activities.metrics import TASKS_OPEN
from ledger.worklist import open_task_counts

METRICS_VARIABLE = "COB_METRICS_ADDRESS"
TASKS_OPEN_EVERY = 30.0  # seconds between two reads of the worklist

log = logging.getLogger("cob.worker.metrics")


class MetricsAddressError(ValueError):
    """COB_METRICS_ADDRESS is not host:port, or nothing can listen there."""


def metrics_address(env: Mapping[str, str] | None = None) -> str | None:
    """COB_METRICS_ADDRESS as host:port, or None when it is unset (no endpoint)."""
    value = (os.environ if env is None else env).get(METRICS_VARIABLE, "").strip()
    if not value:
        return None
    host, colon, port = value.rpartition(":")
    if not (colon and host and port.isdigit() and 0 < int(port) < 65536):
        raise MetricsAddressError(
            f"{METRICS_VARIABLE}: {value!r} is not host:port (e.g. 0.0.0.0:9464)"
        )
    return value


def metrics_runtime(address: str) -> Runtime:
    """A temporalio Runtime serving Prometheus's text format at http://ADDRESS/metrics."""
    try:
        return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))
    except ValueError as error:  # the port is taken, or the host is not an address
        raise MetricsAddressError(
            f"{METRICS_VARIABLE}: cannot serve metrics on {address} ({error})"
        ) from None


async def report_open_tasks(
    meter: MetricMeter, ledger: Engine, every: float = TASKS_OPEN_EVERY
) -> None:
    """Set cob_tasks_open (all open tasks) and cob_tasks_open_by_kind from the ledger, now and
    every `every` seconds, until cancelled. A ledger that cannot be read is a warning; the
    gauges keep their last values."""
    total = meter.create_gauge(TASKS_OPEN, "open worklist tasks in the ledger", "tasks")
    by_kind = meter.create_gauge(f"{TASKS_OPEN}_by_kind", "open worklist tasks, by kind", "tasks")
    seen: set[str] = set()
    while True:
        try:
            counts = await asyncio.to_thread(open_task_counts, ledger)
        except Exception as error:  # the ledger away for a moment: not the worker's end
            log.warning("cannot count the open tasks in the ledger: %s", type(error).__name__)
        else:
            total.set(sum(counts.values()))
            for kind in seen - counts.keys():
                by_kind.set(0, {"kind": kind})
            for kind, count in counts.items():
                by_kind.set(count, {"kind": kind})
            seen |= counts.keys()
        await asyncio.sleep(every)
