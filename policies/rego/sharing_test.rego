# Unit tests of the sharing policy, for `opa test policies/rego policies/data` (bundle layout: see
# deploy/opa) and for tests/policies/test_rego_unit.py, which runs every test_ rule with rego-cpp.
# They call functions with explicit arguments instead of `with input as`, which crashes rego-cpp.
package popart.sharing_test

import data.popart.sharing

now := 1795608000000000000 # 2026-11-25T12:00:00Z

hour := 3600000000000

env := sharing.environment(now, data.popart.organisations)

green := "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"

amber := "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"

amber_strict := "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"

red := "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"

clear := "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"

base := {
	"id": "indicator--test",
	"kind": "alert",
	"producer_org": "policia-nacional-es",
	"markings": [green],
	"personal_data": false,
	"recipients": [],
	"areas": ["madrid"],
	"widened_areas": [],
	"venues": [],
	"created_ns": now - hour,
	"embargo_until_ns": null,
}

decide(overrides) := sharing.decide(object.union(base, overrides), env)

audience(d) := {id | some v in d.verdicts; v.allowed; id := v.org_id}

verdict(d, org_id) := v if {
	some v in d.verdicts
	v.org_id == org_id
}

grant(d, org_id) := g if {
	some v in d.verdicts
	v.org_id == org_id
	v.allowed
	g := v.grant
}

test_clear_reaches_every_organisation if {
	audience(decide({"markings": [clear]})) == {"policia-nacional-es", "psp-pt", "ayto-madrid", "ayto-sevilla"}
}

test_green_respects_local_areas if {
	d := decide({})
	audience(d) == {"policia-nacional-es", "psp-pt", "ayto-madrid"}
	"jurisdiction.outside_area" in verdict(d, "ayto-sevilla").deny
}

test_amber_reaches_producer_communities if {
	d := decide({"markings": [amber]})
	"tlp.amber.producer_community" in verdict(d, "ayto-madrid").allow
	"tlp.amber.producer_community" in verdict(d, "psp-pt").allow
}

test_amber_strict_stays_with_producer if {
	d := decide({"markings": [amber_strict]})
	audience(d) == {"policia-nacional-es"}
	"tlp.amber_strict.not_producer_or_recipient" in verdict(d, "ayto-madrid").deny
}

test_amber_strict_reaches_explicit_recipient if {
	d := decide({"markings": [amber_strict], "recipients": [{"org": "ayto-madrid", "role": null, "individual": null}]})
	audience(d) == {"policia-nacional-es", "ayto-madrid"}
}

test_red_reaches_named_roles_only if {
	d := decide({"markings": [red], "recipients": [{"org": "ayto-madrid", "role": "analyst", "individual": null}]})
	audience(d) == {"ayto-madrid"}
	grant(d, "ayto-madrid").roles == {"analyst"}
	"tlp.red.not_named" in verdict(d, "policia-nacional-es").deny
}

test_strictest_marking_wins if {
	audience(decide({"markings": [green, amber_strict]})) == {"policia-nacional-es"}
}

test_unknown_marking_fails_closed if {
	d := decide({"markings": ["marking-definition--00000000-0000-4000-8000-000000000000"]})
	audience(d) == {"policia-nacional-es"}
	"marking.unknown" in verdict(d, "psp-pt").deny
}

test_associated_lea_needs_a_release if {
	d := decide({"kind": "detection"})
	"jurisdiction.not_released" in verdict(d, "psp-pt").deny
}

test_widened_area_reaches_other_municipality if {
	d := decide({"widened_areas": ["sevilla"]})
	"jurisdiction.widened_area" in verdict(d, "ayto-sevilla").allow
}

test_personal_data_never_reaches_local_authorities if {
	d := decide({"personal_data": true, "markings": [clear]})
	"personal_data.not_lea" in verdict(d, "ayto-madrid").deny
	not "ayto-madrid" in audience(d)
}

test_personal_data_cross_border_needs_release if {
	without := decide({"personal_data": true})
	"personal_data.no_cross_border_release" in verdict(without, "psp-pt").deny
	with_release := decide({"personal_data": true, "venues": ["Estadio Metropolitano"]})
	"psp-pt" in audience(with_release)
}

test_personal_data_roles_are_narrowed if {
	d := decide({"personal_data": true})
	grant(d, "policia-nacional-es").roles == {"analyst", "field_officer", "coordinator"}
}

test_personal_data_expires if {
	d := decide({"personal_data": true, "created_ns": now - (31 * 24) * hour})
	audience(d) == set()
	"retention.expired" in verdict(d, "policia-nacional-es").deny
}

test_retention_sets_not_after if {
	d := decide({"personal_data": true})
	grant(d, "policia-nacional-es").not_after_ns == (now - hour) + (30 * 24) * hour
}

test_embargo_holds_back_others if {
	d := decide({"embargo_until_ns": now + hour})
	grant(d, "ayto-madrid").not_before_ns == now + hour
	grant(d, "policia-nacional-es").not_before_ns == null
}

test_inactive_and_unknown_organisations_are_denied if {
	orgs := object.union(data.popart.organisations, {
		"x": {"id": "x", "type": "national_police", "country": "ES", "area": null, "member": true, "active": false},
		"y": {"id": "y", "type": "club", "country": "ES", "area": null, "member": true, "active": true},
	})
	d := sharing.decide(object.union(base, {"markings": [clear]}), sharing.environment(now, orgs))
	"org.inactive" in verdict(d, "x").deny
	"org.unknown_type" in verdict(d, "y").deny
}
