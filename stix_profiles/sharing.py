"""Sharing instructions a producer attaches to an object; the sharing policy reads them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from stix_profiles.common import StixDict, format_timestamp, utc


class Recipient(BaseModel):
    """A named recipient: an organisation, optionally narrowed to one role or one individual."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    org: str = Field(min_length=1)
    role: str | None = None
    individual: str | None = None


class Sharing(BaseModel):
    """Who else should see an object, where it applies, and until when it is held back."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    recipients: list[Recipient] = Field(default_factory=list)
    areas: list[str] = Field(default_factory=list)
    """Municipalities the object concerns besides its own (area keys or names)."""
    widened_areas: list[str] = Field(default_factory=list)
    """Areas the producer widens the object to; "*" means every area."""
    embargo_until: datetime | None = None

    @field_validator("embargo_until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return None if value is None else utc(value)

    def payload(self) -> StixDict:
        """Return the properties to merge into the sensor/venue context extension."""
        payload: StixDict = {}
        if self.recipients:
            payload["recipients"] = [r.model_dump(exclude_none=True) for r in self.recipients]
        if self.areas:
            payload["areas"] = list(self.areas)
        if self.widened_areas:
            payload["widened_areas"] = list(self.widened_areas)
        if self.embargo_until is not None:
            payload["embargo_until"] = format_timestamp(self.embargo_until)
        return payload
