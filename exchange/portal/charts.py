"""Layout of the inline SVGs: the zone grid with alert markers, and the stacked bars of the dashboard."""

from __future__ import annotations

import math
from typing import Any

from exchange.portal.board import AlertCard, Dashboard

WIDTH = 600


def zone_of(a: AlertCard) -> str:
    """The grid cell an alert belongs to."""
    return a.zone or a.municipality or a.venue or "—"


def venue_map(alerts: list[AlertCard], zones: list[str], image: str | None) -> dict[str, Any]:
    """Zones as a grid (configured order, else from the alerts) and one marker per alert inside its zone."""
    names = list(zones) + sorted({zone_of(a) for a in alerts} - set(zones))
    names = names or ["—"]
    cols = max(1, math.ceil(math.sqrt(len(names))))
    rows = math.ceil(len(names) / cols)
    cell = WIDTH // cols
    cell_h = max(90, min(cell, 160))
    cells = {}
    out_zones = []
    for i, name in enumerate(names):
        x, y = (i % cols) * cell, (i // cols) * cell_h
        cells[name] = (x, y)
        out_zones.append({"name": name, "x": x + 3, "y": y + 3})
    markers = []
    placed: dict[str, int] = {}
    for a in alerts:
        x, y = cells[zone_of(a)]
        k = placed.get(zone_of(a), 0)
        placed[zone_of(a)] = k + 1
        per_row = max(1, (cell - 40) // 28)
        markers.append({"id": a.id, "name": a.name, "severity": a.severity,
                        "x": x + 24 + (k % per_row) * 28, "y": y + 44 + (k // per_row) * 28 % max(1, cell_h - 50)})
    return {"width": WIDTH, "height": rows * cell_h + 6, "cell": cell - 6, "cell_h": cell_h - 6,
            "zones": out_zones, "markers": markers, "image": image}


def stacked_bars(d: Dashboard) -> dict[str, Any]:
    """Per day, one bar stacked by category."""
    height, bottom = 220, 24
    peak = max((sum(v.values()) for v in d.by_day.values()), default=1) or 1
    n = max(1, len(d.days))
    slot = WIDTH / n
    w = max(4.0, min(60.0, slot * 0.7))
    bars, labels = [], []
    for i, day in enumerate(d.days):
        x = i * slot + (slot - w) / 2
        y = float(height - bottom)
        for j, cat in enumerate(d.categories):
            count = d.by_day[day].get(cat, 0)
            if not count:
                continue
            h = (height - bottom - 10) * count / peak
            y -= h
            bars.append({"x": round(x, 1), "y": round(y, 1), "w": round(w, 1), "h": round(h, 1), "day": day,
                         "cat": cat, "n": count, "index": j % 6})
        labels.append({"x": round(x + w / 2, 1), "text": day[5:]})
    return {"width": WIDTH, "height": height, "bars": bars, "labels": labels}
