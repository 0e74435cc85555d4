"""The portal in `popart demo`: an invitation link per organisation and a trickle of demo alerts to watch."""

from __future__ import annotations

import itertools
import logging
import threading
from typing import Any

from exchange.auth.caller import Caller
from exchange.portal.actions import PublishForm

log = logging.getLogger(__name__)
PEOPLE = (  # organisation name, username, display name, roles
    ("Ayuntamiento de Madrid", "duty@madrid.demo", "Madrid duty officer", ["field_officer"]),
    ("Ayuntamiento de Sevilla", "duty@sevilla.demo", "Sevilla duty officer", ["field_officer"]),
    ("Policía Nacional", "coordinator@policia.demo", "Police coordinator", ["coordinator", "analyst", "compliance"]),
    ("Polícia de Segurança Pública", "analyst@psp.demo", "PSP analyst", ["analyst"]),
)
SCENES = (
    ("Crowd density above threshold", "crowd-density", "east-gate", "madrid", 75, "green",
     "Open auxiliary gate E2; agents direct the flow towards the north avenue."),
    ("Fight reported near the stands", "violence", "south-stand", "madrid", 85, "amber",
     "Two units to section S4; keep the exit corridor clear."),
    ("Loud bang detected", "explosion-sound", "pitch", "madrid", 60, "amber", ""),
    ("Counter-flow at the metro exit", "counter-flow", "metro-exit", "sevilla", 55, "green",
     "Stewards stop the inflow for two minutes; announce the alternative exit."),
    ("Person down in the fan zone", "medical", "fan-zone", "madrid", 45, "green",
     "Medical team from post M1; open a 5 m perimeter."),
)


def invitations(hub: Any, base_url: str) -> list[tuple[str, str, str]]:
    """One invitation link per demo person: (organisation, display name, URL)."""
    identity = hub.extras["identity"]
    links = []
    for org, username, name, roles in PEOPLE:
        try:
            _, token = identity.passkeys.invite(organisation=org, username=username, display_name=name, roles=roles,
                                                actor="popart-demo")
        except Exception as exc:  # already invited in this demo database: say so rather than stop the demo
            log.warning("no invitation for %s: %s", username, exc)
            continue
        links.append((org, name, f"{base_url}/portal/invitations/{token}"))
    return links


def start_alert_trickle(hub: Any, caller: Caller, *, every_s: float = 20.0, count: int = 30) -> threading.Event:
    """Publish a demo alert every `every_s` seconds through ingest (so the policy and the audit apply)."""
    stop = threading.Event()

    def run() -> None:
        for i, scene in zip(range(count), itertools.cycle(SCENES), strict=False):
            if stop.wait(every_s):
                return
            name, category, zone, town, crit, tlp, guidance = scene
            form = PublishForm(name=f"{name} (demo {i + 1})", categories=(category,), criticality=crit,
                               venue="Estadio demo", zone=zone, municipality=town, tlp=tlp,
                               guidance_title="What to do" if guidance else "", guidance_text=guidance)
            try:
                hub.ingest.add(caller, "popart", "alerts", {"objects": form.objects(caller.org_id, f"demo-{i}")}, b"")
            except Exception:
                log.warning("demo alert %s not published", i, exc_info=True)

    threading.Thread(target=run, name="demo-alerts", daemon=True).start()
    return stop
