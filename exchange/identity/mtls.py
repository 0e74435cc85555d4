"""Mutual TLS: the client certificate from uvicorn's TLS transport into the ASGI scope, and mapped to a client.

Uvicorn verifies client certificates against the CA it is given but does not tell the application which
certificate was presented. The protocol classes below read the peer certificate once per connection from
the transport's ssl_object and add it to every request scope as the ASGI TLS extension
(`scope["extensions"]["tls"]`, with `client_cert_chain`, `client_cert_name`, `client_cert_error`), plus the
SHA-256 fingerprint the hub matches on. They only override `connection_made`, so they follow uvicorn's
request handling unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ssl
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from exchange.identity.config import CertificateMapping, TlsSettings

FINGERPRINT_KEY = "popart_client_cert_sha256"


@dataclass(frozen=True)
class PeerCertificate:
    """A verified client certificate: SHA-256 fingerprint (hex), RFC 8705 thumbprint, subject DN."""

    fingerprint: str
    thumbprint: str
    subject: str


def tls_extension(ssl_object: ssl.SSLObject | None) -> dict[str, Any] | None:
    """The ASGI TLS extension for a connection (None when it is not TLS)."""
    if ssl_object is None:
        return None
    info: dict[str, Any] = {"server_cert": None, "client_cert_chain": [], "client_cert_name": None,
                            "client_cert_error": None, "tls_version": None, "cipher_suite": None}
    cipher = ssl_object.cipher()
    if cipher:
        info["cipher_suite"] = cipher[0]
    der = ssl_object.getpeercert(binary_form=True)
    if der:
        cert = x509.load_der_x509_certificate(der)
        info["client_cert_chain"] = [ssl.DER_cert_to_PEM_cert(der)]
        info["client_cert_name"] = cert.subject.rfc4514_string()
        info[FINGERPRINT_KEY] = hashlib.sha256(der).hexdigest()
    return info


class _WithTls:
    """Adds the connection's TLS extension to each request scope."""

    def __init__(self, app: ASGIApp, tls: dict[str, Any]) -> None:
        self.app = app
        self.tls = tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("extensions", {})["tls"] = self.tls
        await self.app(scope, receive, send)


class TlsH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, passing the client certificate to the application."""

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        info = tls_extension(transport.get_extra_info("ssl_object"))
        if info is not None:
            self.app = _WithTls(self.app, info)


def protocol_class() -> type[Any]:
    """The HTTP protocol class to give uvicorn (httptools when installed, h11 otherwise)."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return TlsH11Protocol

    class TlsHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol, passing the client certificate to the application."""

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            info = tls_extension(transport.get_extra_info("ssl_object"))
            if info is not None:
                self.app = _WithTls(self.app, info)

    return TlsHttpToolsProtocol


def uvicorn_tls_options(tls: TlsSettings) -> dict[str, Any]:
    """Keyword arguments for uvicorn.Config/run: certificate, key, client CA, verification mode, protocol."""
    if tls.certfile is None:
        return {}
    reqs = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}[tls.client_cert]
    options: dict[str, Any] = {"ssl_certfile": tls.certfile, "ssl_keyfile": tls.keyfile, "ssl_cert_reqs": reqs,
                               "http": protocol_class()}
    if tls.client_ca:
        options["ssl_ca_certs"] = tls.client_ca
    return options


def peer_certificate(request: Request) -> PeerCertificate | None:
    """The verified client certificate of this request's connection, if any."""
    tls = request.scope.get("extensions", {}).get("tls")
    if not tls or not tls.get(FINGERPRINT_KEY):
        return None
    fingerprint = str(tls[FINGERPRINT_KEY])
    thumbprint = base64.urlsafe_b64encode(bytes.fromhex(fingerprint)).rstrip(b"=").decode()
    return PeerCertificate(fingerprint, thumbprint, str(tls.get("client_cert_name") or ""))


class CertificateMap:
    """Client certificates (by fingerprint or subject) → API client ids, from configuration."""

    def __init__(self, mappings: list[CertificateMapping]) -> None:
        self.by_fingerprint = {m.fingerprint_sha256: m.client_id for m in mappings if m.fingerprint_sha256}
        self.by_subject = {m.subject: m.client_id for m in mappings if m.subject}

    def client_id(self, cert: PeerCertificate) -> str | None:
        """The API client this certificate authenticates as, or None."""
        for fingerprint, client_id in self.by_fingerprint.items():
            if hmac.compare_digest(fingerprint, cert.fingerprint):
                return client_id
        return self.by_subject.get(cert.subject)
