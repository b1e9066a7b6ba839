"""The practice's policy file (COB_PRACTICE_POLICY): a worker with a bad one stops at once in
one line naming the variable, the file and the field, before it connects to anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def worker(tmp_path: Path, policy: str) -> subprocess.CompletedProcess:
    path = tmp_path / "policy.json"
    path.write_text(policy)
    env = {**os.environ, "COB_HOME": str(tmp_path / "home"), "COB_PRACTICE_POLICY": str(path),
           "TEMPORAL_ADDRESS": "127.0.0.1:1"}  # fmt: skip
    return subprocess.run([sys.executable, "-m", "cli.main", "worker"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


@pytest.mark.parametrize(
    "policy, says",
    [
        ('{"cycle_days": [0, 30]}', "cycle_days: "),
        ('{"small_balance_write_off": "-1"}', "small_balance_write_off: "),
        ('{"final_action": "sue"}', "final_action: "),
        ('{"bogus": 1}', "bogus: "),
        ("not json", "not JSON"),
    ],
)
def test_a_bad_policy_file_stops_the_worker_naming_the_field(tmp_path, policy, says):
    done = worker(tmp_path, policy)
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"COB_PRACTICE_POLICY {tmp_path / 'policy.json'}: ") and says in line
    assert "Traceback" not in done.stderr and "127.0.0.1:1" not in done.stderr  # never connected
