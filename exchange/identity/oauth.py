"""The token endpoint: authlib's AuthorizationServer with the client-credentials grant, issuing RFC 9068 JWTs.

authlib has no FastAPI integration; this subclass takes a plain `TokenRequest` (method, URL, headers, form
and the client certificate) that the router builds, and returns (status, body, headers) for it to send.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidClientError, OAuth2Error
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant

from exchange.auth.secrets import verify_secret
from exchange.identity.directory import ClientInfo, Directory
from exchange.identity.mtls import CertificateMap, PeerCertificate
from exchange.identity.tokens import TokenService
from exchange.services.orgs import ROLES

_UNKNOWN = ClientInfo("", "", (), "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 43 + "=", False)
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "tls_client_auth"]


@dataclass
class TokenRequest:
    """What the token endpoint needs from an HTTP request."""

    method: str
    uri: str
    headers: Mapping[str, str]
    form: dict[str, str]
    certificate: PeerCertificate | None = None
    ip: str | None = None


@dataclass
class TokenOutcome:
    """The response to send, and for the log: which client asked and whether it authenticated."""

    status: int
    body: Any
    headers: list[tuple[str, str]]
    client_id: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, form: dict[str, str]) -> None:
        self._form = form

    @property
    def data(self) -> dict[str, str]:
        return self._form

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        values: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in self._form.items():
            values[key].append(value)
        return values


class _Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, req: TokenRequest) -> None:
        super().__init__(method=req.method, uri=req.uri, headers=req.headers)
        self.payload = _Payload(req.form)
        self.hub_request = req

    @property
    def form(self) -> dict[str, str]:
        return self.hub_request.form

    @property
    def args(self) -> dict[str, str]:
        return {}


class _Client(ClientMixin):  # type: ignore[misc]
    def __init__(self, info: ClientInfo) -> None:
        self.info = info

    def get_client_id(self) -> str:
        return self.info.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        # A scope narrows the token to some of the client's roles; no scope: all of them.
        if not scope:
            return " ".join(self.info.roles)
        return " ".join(r for r in scope.split() if r in self.info.roles)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        # An unknown or disabled client costs the same scrypt as a real one: timing does not tell them apart.
        return verify_secret(client_secret, self.info.secret_hash) and self.info.active

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


class _ClientCredentials(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def generate_token(self, user: Any = None, scope: str | None = None, grant_type: str | None = None,
                       expires_in: int | None = None, include_refresh_token: bool = True) -> dict[str, Any]:
        server: HubAuthorizationServer = self.server
        return server.issue(self.request, self.client, scope)


class HubAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """The hub as OAuth2 authorization server for its API clients (client-credentials only)."""

    def __init__(self, directory: Directory, tokens: TokenService, certificates: CertificateMap, *,
                 bind_to_certificates: bool) -> None:
        super().__init__(scopes_supported=list(ROLES))
        self.directory = directory
        self.tokens = tokens
        self.certificates = certificates
        self.bind_to_certificates = bind_to_certificates
        self.register_grant(_ClientCredentials)
        self.register_client_auth_method("tls_client_auth", self._tls_client_auth)

    def respond(self, req: TokenRequest) -> TokenOutcome:
        """Run the client-credentials grant for one request."""
        try:
            status, body, headers = self.create_token_response(req)
        except OAuth2Error as exc:  # raised before the grant runs, e.g. insecure_transport on plain http
            status, body, headers = exc()
        client_id = req.form.get("client_id") or _basic_user(req.headers.get("authorization", ""))
        claims = body.pop("_claims", {}) if isinstance(body, dict) else {}
        return TokenOutcome(status, body, list(headers), client_id, claims)

    def issue(self, request: _Request, client: _Client, scope: str | None) -> dict[str, Any]:
        """The token response body for an authenticated client."""
        roles = client.get_allowed_scope(scope).split()
        cert = request.hub_request.certificate
        thumbprint = cert.thumbprint if cert is not None and self.bind_to_certificates else None
        issued = self.tokens.issue(client_id=client.info.client_id, org_id=client.info.org_id, roles=roles,
                                   scope=" ".join(roles), cert_thumbprint=thumbprint)
        return {"access_token": issued.access_token, "token_type": "Bearer", "expires_in": issued.expires_in,
                "scope": " ".join(roles), "_claims": issued.claims}

    def query_client(self, client_id: str) -> _Client | None:
        info = self.directory.client(client_id)
        return _Client(info if info is not None else _UNKNOWN)

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        return None  # self-contained JWTs: nothing to store; issuance is recorded by the router

    def create_oauth2_request(self, request: TokenRequest) -> _Request:
        return _Request(request)

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError("the hub's token endpoint takes form posts only")

    def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, Any, Any]:
        return status, body, headers

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def _tls_client_auth(self, query_client: Any, request: _Request) -> _Client | None:
        """RFC 8705 §2.1: the client's certificate, verified by the TLS layer, must map to its client_id."""
        cert = request.hub_request.certificate
        client_id = request.payload.client_id
        if cert is None or not client_id or request.payload.data.get("client_secret"):
            return None
        if self.certificates.client_id(cert) != client_id:
            raise InvalidClientError(status_code=401, description="the client certificate is not this client's")
        client: _Client = query_client(client_id)
        if not client.info.active:
            raise InvalidClientError(status_code=401, description="unknown or disabled client")
        return client


def _basic_user(header: str) -> str | None:
    import base64

    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(value.strip(), validate=True).decode().partition(":")[0] or None
    except (ValueError, UnicodeDecodeError):
        return None
