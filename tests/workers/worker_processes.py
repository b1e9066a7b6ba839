"""`cob worker` processes for tests, as docker-compose runs them: each a process of its own with
a Prometheus endpoint (COB_METRICS_ADDRESS), scraped over HTTP and read as Prometheus's text
format (name{label="value",...} number)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from workers.devserver import stop_process_group

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def spawn_cob(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    """`cob ARGS` in its own session (so it and its children stop together), output to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "cli.main", *args],
            cwd=ROOT,
            env={**os.environ, **env},
            start_new_session=True,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop(process: subprocess.Popen) -> None:
    """SIGTERM (a worker finishes what it holds), then SIGKILL after 15 s."""
    stop_process_group(process)


def parse_metrics(text: str) -> Samples:
    samples: Samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        found = SAMPLE.match(line)
        assert found, f"not a Prometheus sample: {line!r}"
        name, labels, value = found.groups()
        samples[(name, frozenset(LABEL.findall(labels or "")))] = float(value)
    return samples


async def scrape(address: str) -> tuple[str, Samples]:
    async with httpx.AsyncClient(timeout=5) as http:
        answer = await http.get(f"http://{address}/metrics")
    answer.raise_for_status()
    return answer.text, parse_metrics(answer.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum over the samples of `name` that carry these labels (others may vary)."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in samples.items() if n == name and wanted <= have)


async def metrics_served(address: str, process: subprocess.Popen, log: Path) -> None:
    """Wait until the worker's endpoint answers (60 s at most)."""
    for _ in range(300):
        if process.poll() is not None:
            raise AssertionError(f"cob worker exited {process.returncode}: {log.read_text()}")
        try:
            await scrape(address)
            return
        except httpx.TransportError:
            await asyncio.sleep(0.2)
    raise AssertionError(f"no metrics at {address} after 60 s: {log.read_text()}")
