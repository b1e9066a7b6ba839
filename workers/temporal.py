"""Temporal plumbing kept in one place: data converter, client, search attributes (the task
queue and the attributes themselves are the contract's: contract/ids.py, contract/search_attributes.py)."""

from __future__ import annotations

import getpass
import os
import re
import socket
from datetime import timedelta

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode

from contract import search_attributes
from workers.cluster import cluster_credentials
from workers.codec import data_converter

NAMESPACE = os.environ.get("TEMPORAL_NAMESPACE", "default")
DEFAULT_ADDRESS = "127.0.0.1:7233"
UI_URL = os.environ.get("COB_TEMPORAL_UI", "http://127.0.0.1:8233")
CONNECT_TIMEOUT = timedelta(seconds=10)  # a host that never answers is reported, not awaited
START_IT = "start it with `cob server` (or `cob demo --keep`), or set TEMPORAL_ADDRESS"


class TemporalUnreachable(ConnectionError):
    """No Temporal frontend answers at the address; the message says where and what to do."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(f"cannot reach the Temporal server at {address} ({reason}): {START_IT}")
        self.address = address


def temporal_address() -> str:
    return os.environ.get("TEMPORAL_ADDRESS", DEFAULT_ADDRESS)


def connect_failure(message: str) -> str:
    """The reason in the SDK's connect error, e.g. 'Connection refused', without the Rust
    error chain around it."""
    found = re.search(r'(?:message|error): "([^"]+)"', message) or re.search(
        r'ConnectError\("([^"]+)"', message
    )
    reason = found[1] if found else message.removeprefix("Failed client connect: ")
    return reason[:120]


def current_user() -> str:
    """Who runs this `cob` process: COB_USER, else the login name (never a patient's data)."""
    user = os.environ.get("COB_USER", "").strip()
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return f"uid-{os.getuid()}"


def client_identity() -> str:
    """Who this client is, as histories record it on every signal and update a person sends:
    current_user() at the host."""
    return f"{current_user()}@{socket.gethostname()}"


async def connect(address: str | None = None, runtime: Runtime | None = None) -> Client:
    """A client on the Temporal frontend, its payloads encrypted (workers/codec.py), named
    by client_identity(); TemporalUnreachable when nothing answers there, PayloadKeyError
    when the keys are wrong. `runtime`: the SDK's runtime (a worker's metrics endpoint,
    workers/metrics.py), else the default one."""
    address = address or temporal_address()
    converter = data_converter()  # before connecting: a key problem is not a network one
    credentials = cluster_credentials()  # TLS, mTLS, API key (workers/cluster.py)
    try:
        return await Client.connect(
            address,
            namespace=NAMESPACE,
            data_converter=converter,
            connect_timeout=CONNECT_TIMEOUT,
            identity=client_identity(),
            runtime=runtime,
            **credentials.connect_options(),
        )
    except ValueError as error:  # 'invalid target URL': a bad port, a stray scheme
        raise TemporalUnreachable(address, f"not a host:port address: {error}") from error
    except RuntimeError as error:  # 'Failed client connect: ...' from the SDK's core
        raise TemporalUnreachable(address, connect_failure(str(error))) from error


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


class SearchAttributesMissing(RuntimeError):
    """The namespace lacks a search attribute the workflows set (or has it with another type):
    their upserts would fail every workflow task, so a worker refuses to start."""


def _type_name(value: int) -> str:
    return SearchAttributeIndexedValueType(value).name.title()


async def search_attribute_problems(client: Client) -> list[str]:
    """Each search attribute of contract.search_attributes.ALL the namespace lacks or types
    otherwise, as "CobStage (Keyword): missing"; [] when all are there."""
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=NAMESPACE)
    )
    found = {**listed.system_attributes, **listed.custom_attributes}
    problems = []
    for key in search_attributes.ALL:
        wanted = int(key.indexed_value_type)
        if key.name not in found:
            problems.append(f"{key.name} ({_type_name(wanted)}): missing")
        elif int(found[key.name]) != wanted:
            problems.append(
                f"{key.name} ({_type_name(wanted)}): registered as {_type_name(found[key.name])}"
            )
    return problems


async def verify_search_attributes(client: Client, register: bool = False) -> None:
    """Refuse (SearchAttributesMissing) unless the namespace has every search attribute the
    workflows set, with its type; with `register`, add the missing ones first (the embedded
    dev server, a fresh namespace). A wrong type is never changed here: the namespace's
    operator decides."""
    problems = await search_attribute_problems(client)
    if register and any(problem.endswith("missing") for problem in problems):
        await register_search_attributes(client)
        problems = await search_attribute_problems(client)
    if problems:
        create = " ".join(
            f"--name {key.name} --type {_type_name(int(key.indexed_value_type))}"
            for key in search_attributes.ALL
        )
        raise SearchAttributesMissing(
            f"the Temporal namespace {NAMESPACE!r} cannot take the workflows' search "
            f"attributes: {'; '.join(problems)}. Register them with `temporal operator "
            f"search-attribute create {create}` (docker-compose.yml does this), or start "
            "the worker with --register-search-attributes"
        )
