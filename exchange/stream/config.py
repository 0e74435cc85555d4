"""Settings of the live stream and the webhooks (nested under `stream` in the hub settings)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class StreamSettings(BaseModel):
    """How often the change feed looks at the store, how long streams live, how webhooks retry."""

    model_config = ConfigDict(extra="forbid")

    poll_seconds: float = Field(default=0.5, gt=0, description="Look for commits of other processes this often "
                                "(PostgreSQL LISTEN/NOTIFY and commits of this process wake the feed earlier)")
    listen_notify: bool = Field(default=True, description="On PostgreSQL, wake on NOTIFY popart_stream")
    keepalive_seconds: float = Field(default=15.0, gt=0)
    late_check_seconds: float = Field(default=2.0, gt=0, description="How often an idle stream looks for "
                                      "versions whose embargo lifted (they keep their old sequence number)")
    max_stream_seconds: float = Field(default=900.0, gt=0, description="End a stream after this long; the "
                                      "client reconnects with Last-Event-ID (nothing is lost)")
    page_size: int = Field(default=200, ge=1, le=1000)
    retry_ms: int = Field(default=2000, ge=100, description="The reconnection delay suggested to clients")
    webhooks_enabled: bool = True
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    webhook_max_attempts: int = Field(default=10, ge=1, description="Dead-letter a delivery after this many tries")
    webhook_backoff_seconds: float = Field(default=2.0, gt=0, description="First retry delay (doubles each try)")
    webhook_backoff_max_seconds: float = Field(default=600.0, gt=0)
    webhook_allow_http: bool = Field(default=True, description="Accept http:// webhook URLs (else https only)")
