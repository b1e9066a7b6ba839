"""How the project's Temporal clients prove who they are to a cluster that asks: TLS (a CA
for a self-signed server, a client certificate and key for mTLS) and an API key (Temporal
Cloud), from the environment, so a self-hosted cluster with mTLS or a cloud namespace works
without code changes. Nothing here is logged: the key material stays in its files.

    TEMPORAL_TLS            "1" to use TLS with the system's CAs (implied by any setting below)
    TEMPORAL_TLS_CA         PEM file of the CA that signed the server's certificate
    TEMPORAL_TLS_CERT       PEM file of this client's certificate (mTLS; with the key)
    TEMPORAL_TLS_KEY        PEM file of this client's private key (mTLS; with the certificate)
    TEMPORAL_TLS_SERVER_NAME  the name to check the server's certificate against, when it is
                            not the host in TEMPORAL_ADDRESS
    TEMPORAL_API_KEY        an API key (sent as a bearer token; TLS is required with it)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from temporalio.service import TLSConfig


class ClusterSettingsError(ValueError):
    """A credential setting that cannot be used; the message names the variable."""


@dataclass(frozen=True)
class ClusterCredentials:
    tls: TLSConfig | bool
    api_key: str | None

    def connect_options(self) -> dict:
        """The keyword arguments for temporalio.client.Client.connect."""
        return {"tls": self.tls, "api_key": self.api_key}


def _pem(env: Mapping[str, str], name: str) -> bytes | None:
    path = env.get(name, "").strip()
    if not path:
        return None
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise ClusterSettingsError(f"{name}: cannot read {path} ({error.strerror})") from None
    if b"-----BEGIN" not in data:
        raise ClusterSettingsError(f"{name}: {path} is not a PEM file")
    return data


def cluster_credentials(env: Mapping[str, str] | None = None) -> ClusterCredentials:
    """The TLS and API-key settings from `env` (the process environment by default); plain
    text and no key when none is set, as the embedded dev server wants."""
    env = os.environ if env is None else env
    ca = _pem(env, "TEMPORAL_TLS_CA")
    cert = _pem(env, "TEMPORAL_TLS_CERT")
    key = _pem(env, "TEMPORAL_TLS_KEY")
    if (cert is None) != (key is None):
        given, missing = (
            ("TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY")
            if key is None
            else ("TEMPORAL_TLS_KEY", "TEMPORAL_TLS_CERT")
        )
        raise ClusterSettingsError(f"{missing}: mTLS needs it with {given}")
    server_name = env.get("TEMPORAL_TLS_SERVER_NAME", "").strip() or None
    api_key = env.get("TEMPORAL_API_KEY", "").strip() or None
    wanted = env.get("TEMPORAL_TLS", "").strip().lower()
    if wanted not in ("", "0", "1", "true", "false"):
        raise ClusterSettingsError(f"TEMPORAL_TLS: {wanted!r} is not 1/0/true/false")
    if wanted in ("0", "false") and (ca or cert or server_name or api_key):
        raise ClusterSettingsError(
            "TEMPORAL_TLS: off, yet a TLS or API-key setting is given (an API key needs TLS)"
        )
    if ca or cert or server_name:
        tls: TLSConfig | bool = TLSConfig(
            server_root_ca_cert=ca, client_cert=cert, client_private_key=key, domain=server_name
        )
    else:
        tls = wanted in ("1", "true") or api_key is not None
    return ClusterCredentials(tls=tls, api_key=api_key)
