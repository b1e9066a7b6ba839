"""A production cluster's credentials from the environment: TLS with a CA, mTLS with a
client certificate and key, an API key; each bad setting named."""

import pytest
from temporalio.service import TLSConfig

from workers.cluster import ClusterSettingsError, cluster_credentials

PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def pem(tmp_path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(PEM)
    return str(path)


def test_nothing_set_is_plain_text_without_a_key_as_the_dev_server_wants():
    assert cluster_credentials({}).connect_options() == {"tls": False, "api_key": None}


def test_mtls_reads_the_ca_the_client_certificate_and_its_key(tmp_path):
    env = {
        "TEMPORAL_TLS_CA": pem(tmp_path, "ca.pem"),
        "TEMPORAL_TLS_CERT": pem(tmp_path, "client.pem"),
        "TEMPORAL_TLS_KEY": pem(tmp_path, "client.key"),
        "TEMPORAL_TLS_SERVER_NAME": "temporal.internal",
    }
    tls = cluster_credentials(env).tls
    assert isinstance(tls, TLSConfig)
    assert tls.server_root_ca_cert == PEM and tls.client_cert == PEM
    assert tls.client_private_key == PEM and tls.domain == "temporal.internal"


def test_an_api_key_implies_tls_with_the_system_cas():
    options = cluster_credentials({"TEMPORAL_API_KEY": "secret-key"}).connect_options()
    assert options == {"tls": True, "api_key": "secret-key"}


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"TEMPORAL_TLS_CERT": "CERT"}, "TEMPORAL_TLS_KEY: mTLS needs it"),
        ({"TEMPORAL_TLS_KEY": "CERT"}, "TEMPORAL_TLS_CERT: mTLS needs it"),
        ({"TEMPORAL_TLS_CA": "/nonexistent/ca.pem"}, "TEMPORAL_TLS_CA: cannot read"),
        ({"TEMPORAL_TLS": "maybe"}, "TEMPORAL_TLS: 'maybe'"),
        ({"TEMPORAL_TLS": "0", "TEMPORAL_API_KEY": "k"}, "an API key needs TLS"),
    ],
)
def test_a_bad_setting_is_named(tmp_path, env, named):
    env = {k: pem(tmp_path, "x.pem") if v == "CERT" else v for k, v in env.items()}
    with pytest.raises(ClusterSettingsError, match=named):
        cluster_credentials(env)


def test_a_file_that_is_not_pem_is_refused(tmp_path):
    path = tmp_path / "ca.pem"
    path.write_text("not a certificate")
    with pytest.raises(ClusterSettingsError, match="TEMPORAL_TLS_CA: .* is not a PEM file"):
        cluster_credentials({"TEMPORAL_TLS_CA": str(path)})


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"TEMPORAL_TLS_CERT": "/nonexistent/client.pem"}, "TEMPORAL_TLS_CERT: cannot read"),
        ({"TEMPORAL_TLS": "maybe"}, "TEMPORAL_TLS: 'maybe'"),
        ({"COB_PAYLOAD_KEYS": "k1:notbase64"}, "COB_PAYLOAD_KEYS"),  # the payload keys too
    ],
)
def test_a_bad_cluster_setting_stops_a_command_in_one_line_with_exit_1(env, line):
    from tests.cli.test_cli import cob

    shown = cob("status", "E1001", env=env)
    assert shown.returncode == 1 and line in shown.stderr
    assert "Traceback" not in shown.stderr
