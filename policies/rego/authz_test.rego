# Unit tests of the action policy (see sharing_test.rego for how they run).
package popart.authz_test

import data.popart.authz

orgs := data.popart.organisations

test_field_officer_publishes_alert if {
	authz.decide("ayto-madrid", ["field_officer"], "publish_alert", {}, orgs).allowed
}

test_compliance_does_not_publish_alert if {
	d := authz.decide("policia-nacional-es", ["compliance"], "publish_alert", {}, orgs)
	not d.allowed
	"action.role_not_permitted" in d.deny
}

test_foreign_lea_does_not_issue_guidance if {
	d := authz.decide("psp-pt", ["coordinator"], "issue_guidance", {}, orgs)
	"action.org_type_not_permitted" in d.deny
}

test_retract_only_own_objects if {
	authz.decide("ayto-madrid", ["analyst"], "retract", {"owner_org": "ayto-madrid"}, orgs).allowed
	not authz.decide("ayto-madrid", ["analyst"], "retract", {"owner_org": "ayto-sevilla"}, orgs).allowed
}

test_operator_reads_whole_audit_log if {
	authz.decide("policia-nacional-es", ["compliance"], "read_audit_log", {}, orgs).allowed
	not authz.decide("ayto-madrid", ["compliance"], "read_audit_log", {}, orgs).allowed
}

test_unknown_action_is_denied if {
	"action.unknown" in authz.decide("policia-nacional-es", ["admin"], "launch", {}, orgs).deny
}
