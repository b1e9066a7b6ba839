"""The payload codec (workers/codec.py): AES-256-GCM under keys by id, rotation, refusals that
name the key id, plaintext passed through, failure messages encrypted."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ApplicationError

from cob.model import Encounter
from tests.workflow_harness import example
from workers.codec import (
    ENCODING,
    EncryptionCodec,
    Keyring,
    PayloadKeyError,
    data_converter,
    keyring_from_environment,
    local_key_file,
)

K1 = bytes(range(32))
K2 = bytes(range(32, 64))
B64 = {name: base64.b64encode(key).decode() for name, key in {"k1": K1, "k2": K2}.items()}


def codec(current: str, **keys: bytes) -> EncryptionCodec:
    return EncryptionCodec(Keyring.of(keys, current, "COB_PAYLOAD_KEYS"))


def plain(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())


async def test_round_trip_hides_the_data_and_names_the_key() -> None:
    k1 = codec("k1", k1=K1)
    [sealed] = await k1.encode([plain("Rivera, Ana 1961-04-02")])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata["encryption-key-id"] == b"k1"
    assert b"Rivera" not in sealed.SerializeToString()
    assert b"json/plain" not in sealed.SerializeToString()  # the inner metadata is sealed too
    assert await k1.decode([sealed]) == [plain("Rivera, Ana 1961-04-02")]


async def test_the_same_payload_twice_gets_two_nonces() -> None:
    k1 = codec("k1", k1=K1)
    first, second = await k1.encode([plain("x"), plain("x")])
    assert first.data[:12] != second.data[:12] and first.data != second.data


async def test_a_k1_payload_decrypts_after_rotation_to_k2() -> None:
    [old] = await codec("k1", k1=K1).encode([plain("before rotation")])
    rotated = codec("k2", k1=K1, k2=K2)
    [new] = await rotated.encode([plain("after rotation")])
    assert new.metadata["encryption-key-id"] == b"k2"
    assert await rotated.decode([old, new]) == [plain("before rotation"), plain("after rotation")]


async def test_an_unknown_key_id_is_refused_naming_it() -> None:
    [sealed] = await codec("k1", k1=K1).encode([plain("x")])
    with pytest.raises(PayloadKeyError, match="key 'k1', which is not among the keys .*k2"):
        await codec("k2", k2=K2).decode([sealed])


async def test_a_tampered_ciphertext_does_not_verify() -> None:
    [sealed] = await codec("k1", k1=K1).encode([plain("paid 120.00")])
    data = bytearray(sealed.data)
    data[-20] ^= 0x01
    tampered = Payload(metadata=dict(sealed.metadata), data=bytes(data))
    with pytest.raises(PayloadKeyError, match="key 'k1' does not verify"):
        await codec("k1", k1=K1).decode([tampered])


async def test_the_wrong_key_under_the_same_id_does_not_verify() -> None:
    [sealed] = await codec("k1", k1=K1).encode([plain("x")])
    with pytest.raises(PayloadKeyError, match="key 'k1' does not verify"):
        await codec("k1", k1=K2).decode([sealed])


async def test_a_payload_relabelled_with_another_key_id_does_not_verify() -> None:
    [sealed] = await codec("k1", k1=K1).encode([plain("x")])
    relabelled = Payload(metadata={**sealed.metadata, "encryption-key-id": b"k2"}, data=sealed.data)
    with pytest.raises(PayloadKeyError, match="key 'k2' does not verify"):
        await codec("k1", k1=K1, k2=K1).decode([relabelled])


async def test_plaintext_payloads_pass_through_decode() -> None:
    # the histories recorded before the codec (tests/histories/) are plaintext
    assert await codec("k1", k1=K1).decode([plain("recorded")]) == [plain("recorded")]


async def test_an_encounter_round_trips_through_the_data_converter() -> None:
    encounter = example("01-commercial")
    converter = data_converter(Keyring.of({"k1": K1}, None, "COB_PAYLOAD_KEYS"))
    [payload] = await converter.encode([encounter])
    assert encounter.patient.last_name.encode() not in payload.SerializeToString()
    assert await converter.decode([payload], [Encounter]) == [encounter]


async def test_a_failure_message_is_encrypted() -> None:
    converter = data_converter(Keyring.of({"k1": K1}, None, "COB_PAYLOAD_KEYS"))
    error = ApplicationError("member W123456789 of Rivera, Ana not found", type="NotFound")
    failure = Failure()
    await converter.encode_failure(error, failure)
    encoded = failure.SerializeToString()
    assert b"Rivera" not in encoded and b"W123456789" not in encoded
    assert failure.message == "Encoded failure"
    decoded = await converter.decode_failure(failure)
    assert isinstance(decoded, ApplicationError)
    assert decoded.message == "member W123456789 of Rivera, Ana not found"


def test_keys_inline_with_the_current_id() -> None:
    keyring = keyring_from_environment(
        {"COB_PAYLOAD_KEYS": f"k2:{B64['k2']}, k1:{B64['k1']}", "COB_PAYLOAD_KEY_ID": "k2"}
    )
    assert keyring.current == "k2" and keyring.keys == {"k1": K1, "k2": K2}


def test_keys_from_an_owner_only_file(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"# rotated 2026-01\nk1:{B64['k1']}\nk2:{B64['k2']}\n")
    path.chmod(0o600)
    keyring = keyring_from_environment({"COB_PAYLOAD_KEYS": str(path), "COB_PAYLOAD_KEY_ID": "k2"})
    assert keyring.keys == {"k1": K1, "k2": K2} and keyring.source == str(path)
    path.chmod(0o644)
    with pytest.raises(PayloadKeyError, match="readable by others"):
        keyring_from_environment({"COB_PAYLOAD_KEYS": str(path), "COB_PAYLOAD_KEY_ID": "k2"})


@pytest.mark.parametrize(
    ("keys", "current", "message"),
    [
        ("", "k1", "COB_PAYLOAD_KEYS is not set"),
        (f"k1:{base64.b64encode(b'short').decode()}", None, "key 'k1' is 5 bytes"),
        ("k1:not*base64", None, "key 'k1' is not base64"),
        (f"k 1:{B64['k1']}", None, "is not `id:base64-key`"),
        (f"k1:{B64['k1']}", "k3", "COB_PAYLOAD_KEY_ID='k3' is not among the keys"),
        (f"k1:{B64['k1']},k2:{B64['k2']}", None, "COB_PAYLOAD_KEY_ID is not set .* 2 keys"),
        (f"k1:{B64['k1']},k1:{B64['k2']}", "k1", "key 'k1' is listed twice"),
        ("/nowhere/keys", None, "no key file at /nowhere/keys"),
    ],
)
def test_a_bad_key_configuration_is_refused_clearly(keys: str, current, message: str) -> None:
    environ = {"COB_PAYLOAD_KEYS": keys, **({"COB_PAYLOAD_KEY_ID": current} if current else {})}
    with pytest.raises(PayloadKeyError, match=message):
        keyring_from_environment(environ)


def test_the_local_key_file_is_made_once_owner_only(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = local_key_file(home)
    assert path == home / "payload-keys"
    assert os.stat(path).st_mode & 0o777 == 0o600 and os.stat(home).st_mode & 0o777 == 0o700
    first = path.read_text()
    assert local_key_file(home).read_text() == first  # kept, never replaced
    keyring = keyring_from_environment({"COB_PAYLOAD_KEYS": str(path)})
    assert keyring.current.startswith("local-") and len(keyring.keys[keyring.current]) == 32
