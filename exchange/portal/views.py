"""The portal pages (placeholder while the board is built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
