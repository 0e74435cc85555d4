# METADATA
# title: POP-ART action policy
# description: |
#   Who may do what inside the hub (publish an alert, issue guidance, retract, administer collections,
#   read the audit log), by role, organisation type and ownership of the resource.
#   Entry point: data.popart.authz.decision
#   Input: {"org_id": str, "roles": [str], "action": str, "resource": {"owner_org": str|null},
#           "organisations": {id: org} (optional)}
package popart.authz

organisations := input.organisations if {
	input.organisations
} else := data.popart.organisations

decision := decide(input.org_id, input.roles, input.action, object.get(input, "resource", {}), organisations)

# orgs: {id: org}; passed in so that no function reads input (tests call decide directly).
decide(org_id, roles, action, resource, orgs) := {
	"allowed": count(deny) == 0,
	"allow": allow,
	"deny": deny,
} if {
	checks := action_checks(org_id, roles, action, resource, orgs)
	allow := {id | some c in checks; c.ok; id := c.allow}
	deny := {id | some c in checks; not c.ok; id := c.deny}
}

check(ok, allow_id, deny_id) := {"ok": ok, "allow": allow_id, "deny": deny_id}

action_checks(org_id, roles, action, resource, orgs) := [check(false, "", "action.unknown")] if {
	not data.popart.actions[action]
} else := [check(false, "", "action.unknown_org")] if {
	not orgs[org_id]
} else := [
	check(active, "action.org_active", "org.inactive"),
	role_check(roles, rule),
	type_check(orgs[org_id], rule),
	ownership_check(org_id, resource, rule),
] if {
	rule := data.popart.actions[action]
	active := object.get(orgs[org_id], "active", true) != false
}

role_check(roles, rule) := check(true, concat("", ["action.role:", concat(",", sort(matched))]), "") if {
	matched := {r | some r in roles; r in rule.roles}
	count(matched) > 0
} else := check(false, "", "action.role_not_permitted")

type_check(org, rule) := check(true, "action.org_type_any", "") if {
	not rule.org_types
} else := check(true, concat("", ["action.org_type:", org.type]), "") if {
	org.type in rule.org_types
} else := check(false, "", "action.org_type_not_permitted")

# Actions on a resource: the organisation that owns it, or the hub operator where the rule allows it.
ownership_check(org_id, resource, rule) := check(true, "action.no_ownership_needed", "") if {
	object.get(rule, "own_resource", false) != true
} else := check(true, "action.own_resource", "") if {
	object.get(resource, "owner_org", null) == org_id
} else := check(true, "action.hub_operator", "") if {
	object.get(rule, "operator_override", false) == true
	org_id == data.popart.settings.operator_org
} else := check(false, "", "action.not_own_resource")
