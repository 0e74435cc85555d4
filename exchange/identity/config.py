"""Settings of identity and TLS (nested in exchange.config.Settings as `identity` and `tls`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TrustedIssuer(_Strict):
    """An external OIDC issuer whose access tokens the hub accepts, and how its claims map to ours."""

    issuer: str
    audience: str = Field(description="The `aud` its tokens must carry for this hub")
    algorithms: list[Literal["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]] = ["RS256", "ES256"]
    discovery_url: str | None = Field(default=None, description="Default: {issuer}/.well-known/openid-configuration")
    organisation: str | None = Field(default=None, description="Every token of this issuer belongs to this org")
    organisation_claim: str | None = Field(default=None, description="Claim naming the organisation")
    organisation_map: dict[str, str] = Field(default_factory=dict, description="Claim value → organisation name")
    roles_claim: str = "roles"
    roles_map: dict[str, str] = Field(default_factory=dict, description="Issuer role → hub role (unmapped: dropped)")
    subject_claim: str = "sub"
    jwks_cache_seconds: int = Field(default=300, ge=1)
    jwks_miss_refresh_seconds: float = Field(
        default=10.0, ge=0, description="An unknown kid re-fetches the JWKS at most this often (issuer rotation)")

    @model_validator(mode="after")
    def _one_way_to_the_org(self) -> TrustedIssuer:
        if (self.organisation is None) == (self.organisation_claim is None):
            raise ValueError(f"trusted issuer {self.issuer}: set exactly one of organisation, organisation_claim")
        return self


class CertificateMapping(_Strict):
    """A client certificate (by SHA-256 fingerprint or subject DN) that authenticates as an API client."""

    client_id: str
    fingerprint_sha256: str | None = Field(default=None, description="hex, colons allowed")
    subject: str | None = Field(default=None, description="RFC 4514 subject, e.g. CN=peer,O=Police")

    @model_validator(mode="after")
    def _one_key(self) -> CertificateMapping:
        if (self.fingerprint_sha256 is None) == (self.subject is None):
            raise ValueError(f"certificate mapping for {self.client_id}: set one of fingerprint_sha256, subject")
        if self.fingerprint_sha256 is not None:
            self.fingerprint_sha256 = self.fingerprint_sha256.replace(":", "").lower()
        return self


class IdentitySettings(_Strict):
    """Tokens, federation, certificates, passkeys, sessions and lockout."""

    issuer: str | None = Field(default=None, description="`iss` of the hub's tokens; default: public_url")
    audience: str = "urn:popart:exchange"
    token_lifetime_minutes: int = Field(default=15, ge=1, le=1440)
    signing_algorithm: Literal["ES256", "RS256"] = "ES256"
    key_cache_seconds: float = Field(default=30.0, gt=0)
    revocation_refresh_seconds: float = Field(default=5.0, gt=0)
    bind_tokens_to_certificates: bool = True
    trusted_issuers: list[TrustedIssuer] = Field(default_factory=list)
    client_certificates: list[CertificateMapping] = Field(default_factory=list)
    client_certificate_required_roots: list[str] = Field(
        default_factory=list, description="API roots only callers with a verified client certificate may use")

    webauthn_rp_id: str | None = Field(default=None, description="Default: the host of public_url")
    webauthn_rp_name: str = "POP-ART Exchange"
    webauthn_origins: list[str] = Field(default_factory=list, description="Default: public_url")
    invitation_hours: int = Field(default=72, ge=1)
    session_idle_minutes: int = Field(default=30, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    session_cookie_secure: bool = True

    lockout_failures: int = Field(default=5, ge=1, description="Failures of one account before it is locked")
    lockout_minutes: float = Field(default=15.0, gt=0)
    ip_failures_per_minute: int = Field(default=30, ge=1)


class TlsSettings(_Strict):
    """TLS of `popart serve`: server certificate, and client certificates checked against a CA."""

    certfile: str | None = None
    keyfile: str | None = None
    client_ca: str | None = None
    client_cert: Literal["none", "optional", "required"] = "none"

    @model_validator(mode="after")
    def _consistent(self) -> TlsSettings:
        if (self.certfile is None) != (self.keyfile is None):
            raise ValueError("tls: set both certfile and keyfile")
        if self.client_cert != "none" and (self.client_ca is None or self.certfile is None):
            raise ValueError("tls: client certificates need certfile, keyfile and client_ca")
        return self
