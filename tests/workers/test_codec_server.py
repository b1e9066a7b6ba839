"""The codec server the Temporal UI calls (workers/codec_server.py), over real HTTP: it decodes
what the workers' codec encoded, answers the UI's origin with CORS and no other origin."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from workers.codec import ENCODING, EncryptionCodec, keyring_from_environment
from workers.codec_server import RunningCodecServer, start_in_thread
from workers.devserver import free_port

UI = "http://127.0.0.1:8233"


@pytest.fixture
def codec_server() -> Iterator[RunningCodecServer]:
    running = start_in_thread(free_port(), UI)  # the tests' keys (tests/conftest.py)
    try:
        yield running
    finally:
        running.stop()


def as_json(payloads: list[Payload]) -> dict:
    return json_format.MessageToDict(Payloads(payloads=payloads))


async def test_the_ui_decodes_what_the_workers_encoded(codec_server: RunningCodecServer) -> None:
    original = Payload(metadata={"encoding": b"json/plain"}, data=b'{"last_name":"Moreno"}')
    [sealed] = await EncryptionCodec(keyring_from_environment()).encode([original])
    headers = {"Origin": UI, "Content-Type": "application/json", "X-Namespace": "default"}
    answer = httpx.post(f"{codec_server.url}/decode", json=as_json([sealed]), headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == UI
    [decoded] = json_format.ParseDict(answer.json(), Payloads()).payloads
    assert decoded == original
    assert base64.b64decode(answer.json()["payloads"][0]["data"]) == b'{"last_name":"Moreno"}'


async def test_encode_then_decode_over_http(codec_server: RunningCodecServer) -> None:
    original = Payload(metadata={"encoding": b"json/plain"}, data=b'"a signal from the UI"')
    headers = {"Origin": UI, "X-Namespace": "default"}
    encoded = httpx.post(f"{codec_server.url}/encode", json=as_json([original]), headers=headers)
    [sealed] = json_format.ParseDict(encoded.json(), Payloads()).payloads
    assert sealed.metadata["encoding"] == ENCODING
    decoded = httpx.post(f"{codec_server.url}/decode", json=encoded.json(), headers=headers)
    assert json_format.ParseDict(decoded.json(), Payloads()).payloads == [original]


def test_the_ui_preflight_is_answered(codec_server: RunningCodecServer) -> None:
    answer = httpx.options(
        f"{codec_server.url}/decode",
        headers={
            "Origin": UI,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace",
        },
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == UI
    allowed = answer.headers["access-control-allow-headers"].lower()
    assert "content-type" in allowed and "x-namespace" in allowed
    assert "POST" in answer.headers["access-control-allow-methods"]


async def test_a_foreign_origin_gets_no_cors_and_no_data(codec_server: RunningCodecServer) -> None:
    [sealed] = await EncryptionCodec(keyring_from_environment()).encode(
        [Payload(metadata={"encoding": b"json/plain"}, data=b'"Moreno"')]
    )
    evil = "http://evil.example"
    answer = httpx.post(
        f"{codec_server.url}/decode", json=as_json([sealed]), headers={"Origin": evil}
    )
    assert "access-control-allow-origin" not in answer.headers
    assert answer.status_code == 403 and "Moreno" not in answer.text
    preflight = httpx.options(
        f"{codec_server.url}/decode",
        headers={"Origin": evil, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


async def test_an_unknown_key_is_a_400_naming_it(codec_server: RunningCodecServer) -> None:
    foreign = Payload(
        metadata={"encoding": ENCODING, "encryption-key-id": b"retired-2019"}, data=b"\0" * 40
    )
    answer = httpx.post(f"{codec_server.url}/decode", json=as_json([foreign]))
    assert answer.status_code == 400 and "'retired-2019'" in answer.json()["error"]
