"""Event rules: one detection per incident (start, update, end) with hysteresis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from detectors.events import EventRuleConfig, EventRules, Observation, Phase

T0 = datetime(2026, 7, 14, 20, 0, tzinfo=UTC)


def run(rules: EventRules, seen: list[bool], fps: float = 10.0, confidence: float = 0.9) -> list:
    out = []
    for i, present in enumerate(seen):
        t = i / fps
        obs = [Observation("intrusion", confidence, "test", key="zone-a")] if present else []
        out += rules.step(t, T0 + timedelta(seconds=t), obs)
    return out


def rules(**kw: float) -> EventRules:
    return EventRules("cam-1", "camera", "1", EventRuleConfig(**kw))


def test_a_steady_presence_is_one_incident_with_start_and_end() -> None:
    out = run(rules(min_duration_s=1, end_after_s=2), [False] * 5 + [True] * 50 + [False] * 30)
    assert [d.phase for d in out] == [Phase.START, Phase.END]
    start, end = out
    assert start.incident_id == end.incident_id
    assert start.started == T0 + timedelta(seconds=0.5)
    assert end.ended == T0 + timedelta(seconds=5.4)
    assert end.revision == 1


def test_a_flicker_shorter_than_min_duration_never_starts() -> None:
    assert run(rules(min_duration_s=1), [True, True, False, False] * 20) == []


def test_short_gaps_do_not_split_an_incident() -> None:
    seen = ([True] * 15 + [False] * 5) * 4 + [False] * 40
    out = run(rules(min_duration_s=1, end_after_s=1), seen)
    assert [d.phase for d in out] == [Phase.START, Phase.END]


def test_long_incidents_send_paced_updates() -> None:
    out = run(rules(min_duration_s=0, update_interval_s=2, end_after_s=1), [True] * 61 + [False] * 20)
    assert [d.phase for d in out] == [Phase.START] + [Phase.UPDATE] * 3 + [Phase.END]
    assert [d.revision for d in out] == [0, 1, 2, 3, 4]


def test_ids_are_deterministic_across_replays() -> None:
    seen = [True] * 30 + [False] * 40
    first = run(rules(), seen)
    second = run(rules(), seen)
    assert [d.incident_id for d in first] == [d.incident_id for d in second]


def test_weak_observations_are_ignored() -> None:
    assert run(rules(min_confidence=0.6), [True] * 40, confidence=0.4) == []


def test_flush_ends_open_incidents() -> None:
    r = rules(min_duration_s=0)
    run(r, [True] * 5)
    assert r.open_incidents() == 1
    assert [d.phase for d in r.flush(1.0)] == [Phase.END]
