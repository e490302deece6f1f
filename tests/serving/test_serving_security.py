"""TLS handshake and bearer-token auth on a real server (gRPC and HTTP); also the fixed-window batcher."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import grpc
import httpx
import numpy as np
import pytest

from platewise.client import ModelClient
from platewise.serving.client import RemoteError

pytestmark = pytest.mark.e2e
TOKEN = "tok-" + "x" * 28


def self_signed(tmp: Path) -> tuple[Path, Path]:
    """A throw-away certificate for localhost / 127.0.0.1 (cryptography if installed, else the openssl CLI)."""
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    try:
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        if shutil.which("openssl") is None:
            pytest.skip("neither the cryptography package nor the openssl CLI is available")
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-days",
                "1",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ],
            check=True,
            capture_output=True,
        )
        return cert, key
    import ipaddress

    k = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    c = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(k.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            False,
        )
        .sign(k, hashes.SHA256())
    )
    cert.write_bytes(c.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert, key


@pytest.fixture(scope="module")
def secure(tmp_path_factory, make_server):
    cert, key = self_signed(tmp_path_factory.mktemp("tls"))
    s = make_server(
        "--tls-cert",
        str(cert),
        "--tls-key",
        str(key),
        "--no-adaptive",
        "--max-delay-ms",
        "50",
        env={"PLATEWISE_TOKEN": TOKEN},
    )
    yield s, cert
    s.stop()


def test_grpc_tls_handshake_and_token(secure):
    s, cert = secure
    with ModelClient("echo", "localhost", s.grpc_port, root_cert=cert, token=TOKEN) as c:
        assert c.run(np.ones((2, 2, 3), np.uint8))["sum"] == 12


def test_grpc_wrong_or_missing_token_is_unauthenticated(secure):
    s, cert = secure
    for token in (None, TOKEN + "y", "x"):
        with ModelClient("echo", "localhost", s.grpc_port, root_cert=cert, token=token, connect_timeout=3) as c:
            with pytest.raises(RemoteError) as e:
                c.run(np.ones((2, 2, 3), np.uint8))
            assert e.value.code == grpc.StatusCode.UNAUTHENTICATED


def test_grpc_plaintext_client_cannot_talk_to_tls_server(secure):
    s, _ = secure
    with (
        ModelClient("echo", "127.0.0.1", s.grpc_port, token=TOKEN, connect_timeout=2) as c,
        pytest.raises(RemoteError),  # UNAVAILABLE: the TLS handshake fails
    ):
        c.run(np.ones((2, 2, 3), np.uint8))


def test_http_tls_and_token(secure):
    s, cert = secure
    ctx = ssl.create_default_context(cafile=str(cert))
    base = f"https://localhost:{s.http_port}"
    with httpx.Client(base_url=base, verify=ctx, timeout=10) as c:
        assert c.get("/healthz").status_code == 200  # probes need no token
        assert c.get("/readyz").status_code == 200
        r = c.get("/v1/models")
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
        assert c.get("/v1/models", headers={"authorization": "Bearer nope"}).status_code == 401
        assert c.get("/metrics").status_code == 401
        r = c.get("/v1/models", headers={"authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200
        assert r.json()["models"]


def test_fixed_window_batcher_still_answers_a_lone_request(secure):
    s, cert = secure
    with ModelClient("sleepy", "localhost", s.grpc_port, root_cert=cert, token=TOKEN) as c:
        assert c.run(np.zeros(1, np.float32), sleep="0") == {"batch": 1, "value": 0.0}
