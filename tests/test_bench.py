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


def processes_of(home: str, besides: int = 0) -> list[str]:
    """The processes whose command line or environment names the bench's state folder (not
    this one, nor `besides`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in (os.getpid(), besides):
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


def bench_running(tmp_path: Path, background: bool) -> tuple[subprocess.Popen, str]:
    """A bench (the smallest: one encounter a round) once its four processes run: the dev
    server, the simulator, the engine's worker and the reference worker. `background`: started
    as a shell starts a job with `&`, SIGINT ignored."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    for own in ("COB_HOME", "COB_PAYLOAD_KEYS", "COB_PAYLOAD_KEY_ID"):  # the bench makes its own
        env.pop(own, None)
    bench = subprocess.Popen(
        [sys.executable, "-m", "bench", "--n", "1", "--rounds", "1", "--hold", "1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=ignore_sigint if background else None,
    )  # fmt: skip
    assert bench.stdout is not None
    seen = []
    for line in bench.stdout:
        seen.append(line)
        if "state in " in line:
            home = line.rsplit("state in ", 1)[1].strip()
            deadline = time.monotonic() + 120
            while len(processes_of(home, bench.pid)) < 4 and time.monotonic() < deadline:
                time.sleep(0.2)
            if len(processes_of(home, bench.pid)) >= 4:
                return bench, home
            break
    bench.kill()
    raise AssertionError(f"the bench did not start its four processes:\n{''.join(seen)}")


@pytest.mark.parametrize(
    "sent, background",
    [
        (signal.SIGTERM, False),  # a kill
        ((signal.SIGINT, signal.SIGINT), False),  # Ctrl-C, and again while it stops
        (signal.SIGINT, True),  # `kill -INT` to a bench started in the background (`&`)
    ],
)
def test_a_bench_stopped_midway_stops_its_server_simulator_and_workers(
    tmp_path: Path, sent: signal.Signals | tuple[signal.Signals, ...], background: bool
) -> None:
    bench, home = bench_running(tmp_path, background)
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
