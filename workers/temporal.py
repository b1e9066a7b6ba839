"""Temporal plumbing kept in one place: task queue, data converter, client, search attributes."""

from __future__ import annotations

import os

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode

from workflows import search_attributes

TASK_QUEUE = "cob-encounters"
NAMESPACE = "default"
DEFAULT_ADDRESS = "127.0.0.1:7233"
UI_URL = os.environ.get("COB_TEMPORAL_UI", "http://127.0.0.1:8233")


def temporal_address() -> str:
    return os.environ.get("TEMPORAL_ADDRESS", DEFAULT_ADDRESS)


async def connect(address: str | None = None) -> Client:
    return await Client.connect(
        address or temporal_address(),
        namespace=NAMESPACE,
        data_converter=pydantic_data_converter,
    )


def workflow_url(workflow_id: str, ui_url: str = UI_URL) -> str:
    return f"{ui_url}/namespaces/{NAMESPACE}/workflows/{workflow_id}"


def search_attribute_flags() -> list[str]:
    """`--search-attribute NAME=Type` flags for `temporal server start-dev`."""
    flags = []
    for key in search_attributes.ALL:
        kind = SearchAttributeIndexedValueType(key.indexed_value_type).name.title()  # Keyword
        flags += ["--search-attribute", f"{key.name}={kind}"]
    return flags


async def register_search_attributes(client: Client) -> None:
    """Add our search attributes through the operator service (the time-skipping test server
    takes them no other way). Attributes that already exist are left as they are."""
    for key in search_attributes.ALL:
        request = AddSearchAttributesRequest(
            namespace=NAMESPACE,
            search_attributes={key.name: IndexedValueType.ValueType(key.indexed_value_type)},
        )
        try:
            await client.operator_service.add_search_attributes(request)
        except RPCError as error:
            if error.status != RPCStatusCode.ALREADY_EXISTS:
                raise
