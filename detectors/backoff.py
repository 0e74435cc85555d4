"""Exponential backoff with jitter, shared by feed reconnects and sink retries."""

from __future__ import annotations

import random
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field


class BackoffPolicy(BaseModel):
    """How long to wait between attempts; `max_attempts=None` retries forever."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    initial_s: float = Field(default=1.0, gt=0)
    max_s: float = Field(default=30.0, gt=0)
    multiplier: float = Field(default=2.0, ge=1.0)
    jitter: float = Field(default=0.1, ge=0.0, le=1.0)
    max_attempts: int | None = Field(default=10, ge=1)

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """Yield the wait before each retry; stops after `max_attempts` retries."""
        rng = rng or random.Random()
        delay = self.initial_s
        attempt = 0
        while self.max_attempts is None or attempt < self.max_attempts:
            attempt += 1
            spread = delay * self.jitter
            yield max(0.0, delay + rng.uniform(-spread, spread))
            delay = min(self.max_s, delay * self.multiplier)
