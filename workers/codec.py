"""Every payload the engine hands Temporal (workflow inputs and results, activity arguments,
queries, updates, failure messages) is encrypted before it leaves the process: the Temporal
server's database holds patients' names, birth dates, member ids and diagnoses otherwise.

AES-256-GCM (NIST SP 800-38D): authenticated, so a payload changed at rest fails to decrypt
instead of reading back altered; a fresh random 96-bit nonce per payload (SP 800-38D §8.2.2,
random IV construction; far below its 2^32 invocations per key at our volumes). The key id
travels in the payload's metadata, so keys rotate: new payloads take the current key, old ones
decrypt with the key they name. A payload without our encoding (the plaintext histories
recorded before the codec) passes through decode unchanged; a payload with it never does.

Keys come from COB_PAYLOAD_KEYS: `id:base64,id:base64` inline, or the path of an owner-only
(0600) file with one `id:base64` a line (`#` comments). COB_PAYLOAD_KEY_ID names the key for
new payloads (needed when there is more than one). The `cob` command, when neither is set,
uses a key file in COB_HOME that it creates on first use (local_key_file).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
import secrets
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96 bits, SP 800-38D §5.2.1.1's recommended IV length
KEYS_VARIABLE = "COB_PAYLOAD_KEYS"
KEY_ID_VARIABLE = "COB_PAYLOAD_KEY_ID"
LOCAL_KEY_FILE = "payload-keys"
KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class PayloadKeyError(RuntimeError):
    """The payload keys are missing or wrong, or a payload cannot be decrypted; the message
    names the key id and what to do. Never answered by falling back to plaintext."""


def parse_keys(text: str, source: str) -> dict[str, bytes]:
    """`id:base64` entries, separated by commas or lines, into {id: 32-byte key}."""
    keys: dict[str, bytes] = {}
    lines = [line.partition("#")[0] for line in text.splitlines()]  # base64 has no '#'
    entries = [entry.strip() for line in lines for entry in line.split(",")]
    for entry in entries:
        if not entry:
            continue
        key_id, colon, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not colon or not KEY_ID.fullmatch(key_id):
            shown = key_id[:20] if colon else "(an entry)"
            raise PayloadKeyError(
                f"{source}: {shown!r} is not `id:base64-key` (an id of letters, digits, . _ -)"
            )
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error:
            raise PayloadKeyError(f"{source}: key {key_id!r} is not base64") from None
        if len(key) != KEY_BYTES:
            raise PayloadKeyError(
                f"{source}: key {key_id!r} is {len(key)} bytes; AES-256 needs {KEY_BYTES}"
            )
        if key_id in keys:
            raise PayloadKeyError(f"{source}: key {key_id!r} is listed twice")
        keys[key_id] = key
    if not keys:
        raise PayloadKeyError(f"{source}: no keys")
    return keys


def read_key_file(path: Path) -> dict[str, bytes]:
    """The keys of an owner-only key file; refused when others may read it."""
    mode = path.stat().st_mode
    if mode & 0o077:
        raise PayloadKeyError(
            f"{KEYS_VARIABLE}: the key file {path} is readable by others "
            f"({oct(stat.S_IMODE(mode))}); `chmod 600 {path}`"
        )
    return parse_keys(path.read_text(), f"{KEYS_VARIABLE} file {path}")


def new_key_line(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}\n"


def local_key_file(home: Path) -> Path:
    """COB_HOME/payload-keys, created on first use with one fresh key (0600, written once by
    exclusive create: two processes starting together keep the same key)."""
    path = home / LOCAL_KEY_FILE
    if not path.exists():
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path
        with os.fdopen(descriptor, "w") as file:
            file.write("# cob payload keys: id:base64 (AES-256), one a line; keep this file\n")
            file.write(new_key_line(f"local-{secrets.token_hex(4)}"))
    return path


@dataclasses.dataclass(frozen=True)
class Keyring:
    keys: Mapping[str, bytes]
    current: str
    source: str  # where they came from, for messages: "COB_PAYLOAD_KEYS" or a file path

    @classmethod
    def of(cls, keys: Mapping[str, bytes], current: str | None, source: str) -> Keyring:
        if current is None:
            if len(keys) != 1:
                raise PayloadKeyError(
                    f"{KEY_ID_VARIABLE} is not set and {source} has {len(keys)} keys "
                    f"({', '.join(sorted(keys))}): set it to the key for new payloads"
                )
            [current] = keys
        if current not in keys:
            raise PayloadKeyError(
                f"{KEY_ID_VARIABLE}={current!r} is not among the keys of {source} "
                f"({', '.join(sorted(keys))})"
            )
        return cls(dict(keys), current, source)


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # e.g. an inline key list too long to be a file name
        return False


def keyring_from_environment(environ: Mapping[str, str] | None = None) -> Keyring:
    """The keys of COB_PAYLOAD_KEYS (inline, or a key file's path) and the current one."""
    if environ is None:
        _use_local_key_file()
        environ = os.environ
    configured = environ.get(KEYS_VARIABLE, "").strip()
    current = environ.get(KEY_ID_VARIABLE, "").strip() or None
    if not configured:
        raise PayloadKeyError(
            f"{KEYS_VARIABLE} is not set: payloads are encrypted and need a key "
            f"(`id:base64` of 32 random bytes, or a 0600 file of such lines); the `cob` "
            f"command makes one in COB_HOME/{LOCAL_KEY_FILE}"
        )
    path = Path(configured).expanduser()
    if ":" not in configured or _is_file(path):
        if not _is_file(path):
            raise PayloadKeyError(f"{KEYS_VARIABLE}: no key file at {path}")
        return Keyring.of(read_key_file(path), current, str(path))
    return Keyring.of(parse_keys(configured, KEYS_VARIABLE), current, KEYS_VARIABLE)


_local_home: Path | None = None


def allow_local_key_file(home: Path) -> None:
    """For the `cob` command on one machine: with no key configured, the keys are those of
    the key file in `home` (made when first needed, not before: `cob explain` needs none)."""
    global _local_home
    _local_home = home


def _use_local_key_file() -> None:
    """Point COB_PAYLOAD_KEYS at the local key file, exported so that the processes this one
    starts share the key."""
    if _local_home is not None and not os.environ.get(KEYS_VARIABLE, "").strip():
        os.environ[KEYS_VARIABLE] = str(local_key_file(_local_home))


def key_source_line(keyring: Keyring) -> str:
    """Where the keys are, once, for the person starting the demo or the server."""
    source = keyring.source
    if source == KEYS_VARIABLE:
        return f"payload key: {keyring.current} from {KEYS_VARIABLE}"
    path = Path(source)
    shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
    return f"payload key: {keyring.current} in {shown} ({oct(stat.S_IMODE(path.stat().st_mode))[2:].zfill(4)})"


class EncryptionCodec(PayloadCodec):
    def __init__(self, keyring: Keyring) -> None:
        super().__init__()
        self.keyring = keyring
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keyring.keys.items()}

    async def encode(self, payloads: Iterable[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Iterable[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        """The whole payload (its metadata too: the encoding says what kind of value it is)
        sealed under the current key; the key id is also the associated data, so a payload
        cannot be relabelled with another id."""
        key_id = self.keyring.current
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id.encode()},
            data=nonce + sealed,
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # not ours: plaintext from before the codec
        key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadKeyError(
                f"payload encrypted with key {key_id!r}, which is not among the keys of "
                f"{self.keyring.source} ({', '.join(sorted(self._ciphers))}): add it to "
                f"{KEYS_VARIABLE}"
            )
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            return Payload.FromString(cipher.decrypt(nonce, sealed, key_id.encode()))
        except InvalidTag:
            raise PayloadKeyError(
                f"payload encrypted with key {key_id!r} does not verify: altered, or the key "
                f"{key_id!r} in {self.keyring.source} is not the one that encrypted it"
            ) from None


def data_converter(keyring: Keyring | None = None) -> DataConverter:
    """pydantic's converter with the payloads encrypted and the failures' messages and stack
    traces moved into an encrypted payload (they can quote a patient's data)."""
    codec = EncryptionCodec(keyring or keyring_from_environment())
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
