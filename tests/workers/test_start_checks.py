"""A worker checks its plumbing before it takes work: the namespace must have every search
attribute the workflows set, with its type, or their upserts would fail each workflow task.

On the real dev server (the time-skipping test server does not list search attributes)."""

from __future__ import annotations

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest

from contract import search_attributes
from workers.devserver import DevServer, free_port
from workers.temporal import (
    NAMESPACE,
    SearchAttributesMissing,
    connect,
    search_attribute_problems,
    verify_search_attributes,
)


async def bare_server(tmp_path) -> DevServer:
    server = DevServer(tmp_path / "temporal", port=free_port(), ui_port=None, search_attributes=False)
    await server.start()
    return server


async def test_a_worker_refuses_a_namespace_without_its_search_attributes(tmp_path):
    server = await bare_server(tmp_path)
    try:
        client = await connect(server.address)
        with pytest.raises(SearchAttributesMissing) as refused:
            await verify_search_attributes(client)
        message = str(refused.value)
        for key in search_attributes.ALL:
            assert f"{key.name} (" in message
        assert "CobStage (Keyword): missing" in message
        assert "CobNextDeadline (Datetime): missing" in message
        assert "temporal operator search-attribute create --name CobStage --type Keyword" in message

        await verify_search_attributes(client, register=True)  # as on the embedded server
        assert await search_attribute_problems(client) == []
    finally:
        server.stop()


async def test_a_search_attribute_of_another_type_is_named_and_not_changed(tmp_path):
    server = await bare_server(tmp_path)
    try:
        client = await connect(server.address)
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=NAMESPACE,
                search_attributes={"CobStage": IndexedValueType.INDEXED_VALUE_TYPE_TEXT},
            )
        )
        with pytest.raises(SearchAttributesMissing, match=r"CobStage \(Keyword\): registered as Text"):
            await verify_search_attributes(client, register=True)
        assert await search_attribute_problems(client) == ["CobStage (Keyword): registered as Text"]
    finally:
        server.stop()


async def test_the_embedded_server_starts_with_every_search_attribute(tmp_path):
    server = DevServer(tmp_path / "temporal", port=free_port(), ui_port=None)
    await server.start()
    try:
        assert await search_attribute_problems(await connect(server.address)) == []
    finally:
        server.stop()


async def test_cob_worker_refuses_to_start_in_one_line_and_exit_1(tmp_path):
    import asyncio
    import os
    import sys

    server = await bare_server(tmp_path)
    try:
        env = {**os.environ, "TEMPORAL_ADDRESS": server.address, "COB_HOME": str(tmp_path / "home")}
        command = [sys.executable, "-m", "cli.main", "worker", "--payer-url", "http://127.0.0.1:9"]
        process = await asyncio.create_subprocess_exec(
            *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
        assert process.returncode == 1, (out, err)
        assert "Traceback" not in err.decode()
        assert "CobNextDeadlineKind (Keyword): missing" in err.decode()
        assert "--register-search-attributes" in err.decode()
    finally:
        server.stop()
