"""`popart demo`'s portal pieces: an invitation per demo person, and demo alerts published through ingest."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from exchange.auth.caller import Caller
from exchange.portal.demo import PEOPLE, invitations, start_alert_trickle
from tests.conftest import RunningHub, stop_hub
from tests.portal.conftest import PN, serve, taxii_ids


@pytest.fixture
def running(site_db: tuple[str, dict[str, str]]) -> Iterator[RunningHub]:
    url, secrets = site_db
    hub = serve(url, secrets)
    yield hub
    stop_hub(hub)


def test_invitations_and_the_alert_trickle(running: RunningHub) -> None:
    links = invitations(running.hub, "http://localhost:6100")
    assert len(links) == len(PEOPLE) and all("/portal/invitations/" in url for _, _, url in links)
    before = taxii_ids(running, "pn-coordinator")
    caller = Caller(org_id=PN, org_name="Policía Nacional", org_type="national_police", subject="demo",
                    auth_method="demo", roles=frozenset({"coordinator"}))
    stop = start_alert_trickle(running.hub, caller, every_s=0.05, count=3)
    deadline = time.monotonic() + 20
    new: set[str] = set()
    while sum(1 for i in new if i.startswith("incident--")) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
        new = taxii_ids(running, "pn-coordinator") - before
    stop.set()
    assert sum(1 for i in new if i.startswith("incident--")) == 3
    assert any(i.startswith("course-of-action--") for i in new)  # the guidance came with them
