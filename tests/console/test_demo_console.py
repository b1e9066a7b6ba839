"""`cob demo --keep`'s console: on the demo's ledger, with a fresh token for its supervisor
`demo` each run (the last one stops working), on another port when 8400 is taken."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from cli.demo import DEMO_USER, start_console
from ledger.db import make_engine
from ledger.users import disable_user
from workers.devserver import free_port


def test_each_demo_run_gives_the_demo_supervisor_a_new_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'ledger.db'}")
    port = free_port()
    first, token = start_console("127.0.0.1:9", "http://ui.test:8233", port)
    try:
        assert first.url == f"http://127.0.0.1:{port}" and token
        me = httpx.get(f"{first.url}/api/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json() == {"name": DEMO_USER, "role": "supervisor"}
        page = httpx.get(f"{first.url}/encounters/E1001", cookies={"cob_token": token})
        assert page.status_code == 200
        assert (
            'href="http://ui.test:8233/namespaces/default/workflows/encounter-E1001"' in page.text
        )
        second, again = start_console("127.0.0.1:9", None, port)  # the port is taken
        try:
            assert second.url != first.url and again and again != token
            old = httpx.get(f"{second.url}/api/me", headers={"Authorization": f"Bearer {token}"})
            assert old.status_code == 401
        finally:
            second.stop()
        disable_user(make_engine(), DEMO_USER, by="root")
        third, none = start_console("127.0.0.1:9", None, free_port())
        third.stop()
        assert none is None
    finally:
        first.stop()
