"""The embedded dev server is started with every search attribute the workflows set: a
workflow that upserts an attribute the server does not know fails its task, encounter after
encounter. (docker-compose.yml's list is checked in tests/test_compose.py.)"""

from __future__ import annotations

from temporalio.common import SearchAttributeIndexedValueType

from contract import search_attributes
from workers.temporal import search_attribute_flags


def declared() -> set[tuple[str, str]]:
    return {
        (key.name, SearchAttributeIndexedValueType(key.indexed_value_type).name.title())
        for key in search_attributes.ALL
    }


def test_the_embedded_dev_server_is_started_with_every_search_attribute() -> None:
    flags = search_attribute_flags()
    given = {tuple(flag.split("=")) for flag in flags[1::2]}
    assert given == declared() and len(flags) == 2 * len(search_attributes.ALL)
