"""Settings of the portal (nested under `portal` in the hub settings)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PortalSettings(BaseModel):
    """Map, languages and the collections the portal writes to."""

    model_config = ConfigDict(extra="forbid")

    default_language: Literal["en", "es", "pt"] = "en"
    map_image_url: str | None = Field(default=None, description="A venue floor plan drawn under the zone grid "
                                      "(served by the hub or your tile/plan server); none: a plain grid")
    map_tiles_url: str | None = Field(default=None, description="An online tile server template "
                                      "({z}/{x}/{y}) for production; shown as the board's map background")
    zones: list[str] = Field(default_factory=list, description="Zone names in grid order (else from the alerts)")
    feedback_collection: str | None = Field(default=None, description="Alias of the collection acknowledgements "
                                            "go to when the alert's own collection is not writable")
    board_limit: int = Field(default=50, ge=1, le=500)
