"""`make bench` stopped midway (Ctrl-C, a kill) leaves nothing running: its dev server,
simulator and workers run in sessions of their own, so no terminal signal reaches them, and
the bench must stop them itself. It asserts no timing: the bench is never run to its end here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def processes_of(home: str) -> list[str]:
    """The processes whose command line or environment names the bench's state folder."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            text = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if home.encode() in text:
            found.append(f"{entry.name}: {(entry / 'cmdline').read_bytes()[:120]!r}")
    return found


def ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def bench_until(
    line_starts: str, tmp_path: Path, background: bool = False
) -> tuple[subprocess.Popen, str]:
    """A bench holding encounters in flight, once it has printed a line starting so;
    `background`: started as a shell starts a job with `&`, SIGINT ignored."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    for own in ("COB_HOME", "COB_PAYLOAD_KEYS", "COB_PAYLOAD_KEY_ID"):  # the bench makes its own
        env.pop(own, None)
    bench = subprocess.Popen(
        [sys.executable, "-m", "bench", "--n", "2", "--rounds", "1", "--hold", "30"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=ignore_sigint if background else None,
    )  # fmt: skip
    assert bench.stdout is not None
    home, seen = "", []
    deadline = time.monotonic() + 240
    for line in bench.stdout:
        seen.append(line)
        if "state in " in line:
            home = line.rsplit("state in ", 1)[1].strip()
        if line.strip().startswith(line_starts) and home:
            return bench, home
        if time.monotonic() > deadline:
            break
    bench.kill()
    raise AssertionError(f"the bench never printed {line_starts!r}:\n{''.join(seen)}")


@pytest.mark.parametrize(
    "sent, when",
    [
        (signal.SIGINT, "ledger"),  # Ctrl-C while it starts its processes
        (signal.SIGTERM, "round 1"),  # a kill while encounters are held in flight
        ((signal.SIGINT, signal.SIGINT), "round 1"),  # Ctrl-C, and again while it stops
        (signal.SIGINT, "round 1 &"),  # `kill -INT` to a bench started in the background
    ],
)
def test_a_bench_stopped_midway_stops_its_server_simulator_and_workers(
    tmp_path: Path, sent: signal.Signals | tuple[signal.Signals, ...], when: str
) -> None:
    background = when.endswith(" &")
    bench, home = bench_until(when.removesuffix(" &"), tmp_path, background)
    if when == "ledger":
        time.sleep(3)  # its dev server is up, the simulator and workers on their way
    assert processes_of(home), "the bench started nothing under its state folder"
    try:
        for number, each in enumerate(sent if isinstance(sent, tuple) else [sent]):
            if number:
                time.sleep(1)  # the bench is stopping its processes now
            bench.send_signal(each)
        try:
            bench.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            bench.kill()
            raise
        assert bench.returncode == 130
    finally:
        left = processes_of(home)
        for line in left:  # not left running for the next test either
            os.kill(int(line.split(":")[0]), signal.SIGKILL)
    assert left == []
    assert not Path(home).exists()  # its state (patients' data) is not left behind
