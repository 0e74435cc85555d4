"""Plain JSON request bodies and responses for the hub's non-TAXII endpoints (portal, stream, webhooks)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from exchange.errors import BadRequest


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object; BadRequest otherwise."""
    try:
        body = await request.json()
    except ValueError:
        raise BadRequest("the body is not JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("expected a JSON object")
    return body


def json_response(body: object, status: int = 200) -> Response:
    """A JSON response that no cache keeps (it is per caller)."""
    return Response(json.dumps(body), status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store"})
