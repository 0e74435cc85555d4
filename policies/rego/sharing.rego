# METADATA
# title: POP-ART sharing policy
# description: |
#   Decides, for each stored object version, which organisations (and which of their roles or
#   individuals) may see it and during which interval. Entry point: data.popart.sharing.decisions,
#   evaluated over input.objects in one call (batch). Every outcome names the rule ids that allowed
#   or denied each organisation so compliance officers can ask "why".
#
#   Input: {"now_ns": int, "objects": [facts...], "organisations": {id: org} (optional)}
#   Data:  data.popart.{organisations, org_types, communities, releases, legal_bases, retention,
#          markings, settings}
#
#   Written for both OPA (v1 syntax) and rego-cpp (regopy): comprehension heads stay simple
#   variables or calls, `some k, v in` is avoided, and no rule reads `input` through `with`.
package popart.sharing

import data.popart.lib

# The organisations on the hub: the hub may pass its registry in the input, else the data document.
organisations := input.organisations if {
	input.organisations
} else := data.popart.organisations

settings := data.popart.settings

# One decision per object of input.objects, in order.
decisions := [d |
	some obj in input.objects
	d := decide(obj, {"now_ns": input.now_ns, "organisations": organisations})
]

# env: {"now_ns": the decision time, "organisations": {id: org}}; passed down so no function reads input.
decide(obj, env) := {
	"object_id": obj.id,
	"levels": obj_levels,
	"verdicts": verdicts,
	"grants": [g | some v in verdicts; v.allowed; g := v.grant],
} if {
	obj_levels := object_levels(obj)
	verdicts := [v | some org in env.organisations; v := verdict(obj, org, obj_levels, env)]
}

# --- markings ---------------------------------------------------------------------------------

marking_level(id) := data.popart.markings.levels[id]

marking_level(id) := "unknown" if not data.popart.markings.levels[id]

# The TLP levels of an object (all of them: every marking must be satisfied).
object_levels(obj) := {level |
	some m in obj.markings
	not m in data.popart.markings.ignored
	level := marking_level(m)
} if {
	count(obj.markings) > 0
} else := {data.popart.markings.unmarked}

# rule id -> whether it lets this organisation pass this level.
level_checks(obj, org, "clear", _) := {"tlp.clear.on_hub": true}

level_checks(obj, org, "green", producer) := {
	"tlp.green.member": lib.is_member(org),
	"tlp.green.producer_org": producer,
}

level_checks(obj, org, "amber", producer) := {
	"tlp.amber.recipient": lib.named_org(obj, org),
	"tlp.amber.producer_community": in_producer_community(obj, org),
	"tlp.amber.producer_org": producer,
}

level_checks(obj, org, "amber+strict", producer) := {
	"tlp.amber_strict.recipient": lib.named_org(obj, org),
	"tlp.amber_strict.producer_org": producer,
}

level_checks(obj, org, "red", _) := {"tlp.red.named": red_named(obj, org)}

level_checks(obj, org, "unknown", producer) := {"marking.unknown.producer_org": producer}

level_denial := {
	"clear": "tlp.clear.denied",
	"green": "tlp.green.not_member",
	"amber": "tlp.amber.not_recipient_or_community",
	"amber+strict": "tlp.amber_strict.not_producer_or_recipient",
	"red": "tlp.red.not_named",
	"unknown": "marking.unknown",
}

marking_allows(obj, org, levels, producer) := {id |
	some level in levels
	checks := level_checks(obj, org, level, producer)
	some id in object.keys(checks)
	checks[id] == true
}

marking_denials(obj, org, levels, producer) := {id |
	some level in levels
	checks := level_checks(obj, org, level, producer)
	not lib.any_true(checks)
	id := level_denial[level]
}

in_producer_community(obj, org) := true if {
	some c in data.popart.communities
	obj.producer_org in c.members
	org.id in c.members
} else := false

red_members(obj, org) := {
	"roles": {role |
		some r in obj.recipients
		r.org == org.id
		role := r.role
		is_string(role)
	},
	"individuals": {who | some r in obj.recipients; r.org == org.id; who := r.individual; is_string(who)},
}

red_named(obj, org) := count(m.roles) + count(m.individuals) > 0 if {
	m := red_members(obj, org)
}

# --- one organisation ---------------------------------------------------------------------------

verdict(obj, org, levels, env) := {
	"org_id": org.id,
	"allowed": count(deny) == 0,
	"allow": allow,
	"deny": deny,
	"constraints": constraints,
	"grant": grant,
} if {
	producer := obj.producer_org == org.id
	exempt := lib.all_in(levels, settings.jurisdiction_exempt_levels)
	scope := scope_outcome(obj, org, producer, exempt, env)
	pd := personal_data_outcome(obj, org, producer, env)
	ret := retention_outcome(obj, env)
	members := grant_members(obj, org, levels)
	deny := ((((marking_denials(obj, org, levels, producer) | scope.deny) | pd.deny) | ret.deny) | members.deny) | org_denials(org)
	allow := ((marking_allows(obj, org, levels, producer) | scope.allow) | pd.allow) | producer_allow(producer)
	emb := embargo_outcome(obj, producer, env)
	ends := ((scope.ends | pd.ends) | ret.ends) | set()
	constraints := ((scope.constraints | pd.constraints) | ret.constraints) | emb.constraints
	grant := {
		"org_id": org.id,
		"roles": members.roles,
		"individuals": members.individuals,
		"not_before_ns": emb.not_before_ns,
		"not_after_ns": lib.min_or_null(ends),
	}
}

producer_allow(true) := {"producer.own_object"}

producer_allow(false) := set()

org_denials(org) := {"org.unknown_type"} if {
	not data.popart.org_types[org.type]
} else := {"org.inactive"} if {
	org.active == false
} else := set()

# --- organisation type and jurisdiction --------------------------------------------------------

# The producer always keeps its own objects; CLEAR-only objects are exempt (settings).
scope_outcome(obj, org, producer, exempt, env) := lib.outcome({"jurisdiction.producer_org"}, set(), set(), set()) if {
	producer
} else := lib.outcome({"jurisdiction.exempt_level"}, set(), set(), set()) if {
	exempt
} else := scope_by_type(obj, org, org_scope(org), env)

org_scope(org) := data.popart.org_types[org.type].scope if {
	data.popart.org_types[org.type].scope
} else := "none"

scope_by_type(obj, org, "national", env) := lib.outcome({"jurisdiction.national"}, set(), set(), set())

scope_by_type(obj, org, "released", env) := lib.outcome(
	lib.ids("jurisdiction.released:", rs),
	set(),
	lib.latest_end(rs),
	lib.ending_ids("release.expires:", rs),
) if {
	rs := matching_releases(obj, org, false, env)
	count(rs) > 0
}

scope_by_type(obj, org, "released", env) := lib.outcome(set(), {"jurisdiction.not_released"}, set(), set()) if {
	count(matching_releases(obj, org, false, env)) == 0
}

scope_by_type(obj, org, scope, env) := lib.outcome(set(), {"jurisdiction.unknown_scope"}, set(), set()) if {
	not scope in {"national", "released", "area"}
}

scope_by_type(obj, org, "area", env) := lib.outcome({"jurisdiction.in_area"}, set(), set(), set()) if {
	org.area in obj.areas
} else := lib.outcome({"jurisdiction.widened_area"}, set(), set(), set()) if {
	lib.widened_to(obj, org.area)
} else := lib.outcome(set(), {"jurisdiction.outside_area"}, set(), set())

# Releases to this organisation that cover the object and have not ended (personal: cross-border PD).
matching_releases(obj, org, personal, env) := [r |
	some r in releases
	r.to == org.id
	lib.release_covers(r, obj)
	lib.release_from_ok(r, obj)
	lib.not_ended(r, env.now_ns)
	lib.release_personal_ok(r, personal)
]

# Data documents with their ids and parsed end times, computed once per query.
releases := [r |
	some id in object.keys(data.popart.releases)
	r := lib.with_id_and_end(data.popart.releases[id], id)
]

legal_bases := [b |
	some id in object.keys(data.popart.legal_bases)
	b := lib.with_id_and_end(data.popart.legal_bases[id], id)
]

# --- personal data ------------------------------------------------------------------------------

personal_data_outcome(obj, org, producer, env) := lib.outcome(set(), set(), set(), set()) if {
	obj.personal_data != true
} else := lib.outcome({"personal_data.producer_org"}, set(), set(), set()) if {
	producer
} else := lib.outcome(set(), {"personal_data.not_lea"}, set(), set()) if {
	data.popart.org_types[org.type].lea != true
} else := pd_for_lea(obj, org, env)

pd_for_lea(obj, org, env) := lib.outcome(
	bases.allow | border.allow,
	bases.deny | border.deny,
	bases.ends | border.ends,
	bases.constraints | border.constraints,
) if {
	bases := pd_bases(obj, org, env)
	border := pd_border(obj, org, env)
}

valid_bases(org, env) := [b |
	some b in legal_bases
	b.org == org.id
	lib.non_empty(b.basis)
	lib.non_empty(b.purpose)
	lib.not_ended(b, env.now_ns)
]

pd_bases(obj, org, env) := lib.outcome(set(), {"personal_data.no_legal_basis"}, set(), set()) if {
	count(valid_bases(org, env)) == 0
} else := lib.outcome(
	lib.ids("personal_data.legal_basis:", bs),
	set(),
	lib.latest_end(bs),
	lib.ending_ids("legal_basis.expires:", bs),
) if {
	bs := valid_bases(org, env)
}

producer_country(obj, env) := env.organisations[obj.producer_org].country

same_country(obj, org, env) := true if {
	org.country == producer_country(obj, env)
} else := false

pd_border(obj, org, env) := lib.outcome({"personal_data.same_country"}, set(), set(), set()) if {
	same_country(obj, org, env)
} else := lib.outcome(set(), {"personal_data.no_cross_border_release"}, set(), set()) if {
	count(matching_releases(obj, org, true, env)) == 0
} else := lib.outcome(
	lib.ids("personal_data.cross_border_release:", rs),
	set(),
	lib.latest_end(rs),
	lib.ending_ids("release.expires:", rs),
) if {
	rs := matching_releases(obj, org, true, env)
}

# --- time: retention and embargo ----------------------------------------------------------------

retention_days(obj) := data.popart.retention.personal_data_days_by_kind[obj.kind] if {
	data.popart.retention.personal_data_days_by_kind[obj.kind]
} else := data.popart.retention.personal_data_days

retention_end_ns(obj) := obj.created_ns + ((retention_days(obj) * 86400) * 1000000000)

retention_outcome(obj, env) := lib.outcome(set(), set(), set(), set()) if {
	obj.personal_data != true
} else := lib.outcome(set(), {"retention.expired"}, set(), set()) if {
	env.now_ns >= retention_end_ns(obj)
} else := lib.outcome(set(), set(), {retention_end_ns(obj)}, {"retention.expires"})

embargo_outcome(obj, producer, env) := {"not_before_ns": obj.embargo_until_ns, "constraints": {"embargo.until"}} if {
	not producer
	is_number(obj.embargo_until_ns)
	obj.embargo_until_ns > env.now_ns
} else := {"not_before_ns": null, "constraints": set()}

# --- who inside the organisation ----------------------------------------------------------------

grant_members(obj, org, levels) := lib.members(restrict_roles(obj, m.roles), m.individuals) if {
	"red" in levels
	m := red_members(obj, org)
} else := lib.members(restrict_roles(obj, {"*"}), set())

# Personal data narrows the roles to those allowed to handle it.
restrict_roles(obj, roles) := {r | some r in settings.personal_data_roles; lib.role_in(r, roles)} if {
	obj.personal_data == true
} else := roles
