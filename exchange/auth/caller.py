"""The verified identity behind a request, whatever door it came in through."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: organisation, roles, subject and how it authenticated."""

    org_id: str
    org_name: str
    org_type: str
    subject: str
    auth_method: str
    roles: frozenset[str] = field(default_factory=frozenset)
    country: str | None = None
    area: str | None = None

    def has_role(self, role: str) -> bool:
        """True when the caller holds `role` (or is an administrator of its organisation)."""
        return role in self.roles or "admin" in self.roles
