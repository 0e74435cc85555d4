# METADATA
# title: POP-ART sharing policy
# description: |
#   Decides, for each stored object version, which organisations (and which of their roles or
#   individuals) may see it and during which interval. Entry point: data.popart.sharing.decisions,
#   evaluated over input.objects in one call (batch). Every verdict names the rule ids that allowed
#   or denied the organisation, so compliance officers can ask "why".
#
#   Input: {"now_ns": int, "objects": [facts...], "organisations": {id: org} (optional)}
#   Data:  data.popart.{organisations, org_types, communities, releases, legal_bases, retention,
#          markings, settings}
#
#   Written for both OPA (v1 syntax) and rego-cpp (regopy): comprehension heads are variables bound
#   in the body (rego-cpp loses outer variables used in a head), `some k, v in` is avoided, and no
#   function reads `input`: the time and the organisations travel in `env`, so unit tests call the
#   functions directly instead of using `with input as` (which crashes rego-cpp).
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
	d := decide(obj, query_env)
]

query_env := environment(input.now_ns, organisations)

# What the decisions of one query share: the time, and per organisation the facts that do not depend
# on the object (computed once per query, not once per object).
environment(now_ns, orgs) := {"now_ns": now_ns, "index": {id: info |
	some id in object.keys(orgs)
	info := org_info(orgs[id], now_ns)
}}

org_info(org, now_ns) := {
	"org": org,
	"denials": org_denials(org),
	"scope": org_scope(org),
	"lea": object.get(data.popart.org_types, [org.type, "lea"], false) == true,
	"communities": {c |
		some c in object.keys(data.popart.communities)
		org.id in data.popart.communities[c].members
	},
	"releases": [r |
		some r in releases
		r.to == org.id
		lib.not_ended(r, now_ns)
	],
	"bases": [b |
		some b in legal_bases
		b.org == org.id
		lib.non_empty(b.basis)
		lib.non_empty(b.purpose)
		lib.not_ended(b, now_ns)
	],
}

# Data documents with their ids and parsed end times.
releases := [r |
	some id in object.keys(data.popart.releases)
	r := lib.with_id_and_end(data.popart.releases[id], id)
]

legal_bases := [b |
	some id in object.keys(data.popart.legal_bases)
	b := lib.with_id_and_end(data.popart.legal_bases[id], id)
]

org_denials(org) := {"org.unknown_type"} if {
	not data.popart.org_types[org.type]
} else := {"org.inactive"} if {
	org.active == false
} else := set()

org_scope(org) := data.popart.org_types[org.type].scope if {
	data.popart.org_types[org.type].scope
} else := "none"

# --- one object -----------------------------------------------------------------------------------

decide(obj, env) := {
	"object_id": obj.id,
	"levels": common.levels,
	"verdicts": verdicts,
} if {
	common := object_common(obj, env)
	verdicts := [v |
		some id in object.keys(env.index)
		v := verdict(obj, env.index[id], common)
	]
}

# What every verdict on this object needs, computed once per object.
object_common(obj, env) := {
	"levels": levels,
	"exempt": lib.all_in(levels, settings.jurisdiction_exempt_levels),
	"retention": retention_outcome(obj, env.now_ns),
	"embargo": embargo_outcome(obj, env.now_ns),
	"producer_communities": object.get(env.index, [obj.producer_org, "communities"], set()),
	"producer_country": object.get(env.index, [obj.producer_org, "org", "country"], null),
	"roles": restrict_roles(obj, {"*"}),
} if {
	levels := object_levels(obj)
}

# --- markings ---------------------------------------------------------------------------------------

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
level_checks(_, _, "clear", _, _) := {"tlp.clear.on_hub": true}

level_checks(_, info, "green", producer, _) := {
	"tlp.green.member": object.get(info.org, "member", false) == true,
	"tlp.green.producer_org": producer,
}

level_checks(obj, info, "amber", producer, common) := {
	"tlp.amber.recipient": lib.named_org(obj, info.org),
	"tlp.amber.producer_community": count(info.communities & common.producer_communities) > 0,
	"tlp.amber.producer_org": producer,
}

level_checks(obj, info, "amber+strict", producer, _) := {
	"tlp.amber_strict.recipient": lib.named_org(obj, info.org),
	"tlp.amber_strict.producer_org": producer,
}

level_checks(obj, info, "red", _, _) := {"tlp.red.named": red_named(obj, info.org)}

level_checks(_, _, "unknown", producer, _) := {"marking.unknown.producer_org": producer}

level_denial := {
	"clear": "tlp.clear.denied",
	"green": "tlp.green.not_member",
	"amber": "tlp.amber.not_recipient_or_community",
	"amber+strict": "tlp.amber_strict.not_producer_or_recipient",
	"red": "tlp.red.not_named",
	"unknown": "marking.unknown",
}

marking_outcome(obj, info, producer, common) := {"allow": allow, "deny": deny} if {
	passed := [p |
		some level in common.levels
		p := {"level": level, "ids": lib.true_keys(level_checks(obj, info, level, producer, common))}
	]
	allow := {id |
		some p in passed
		some id in p.ids
	}
	deny := {id |
		some p in passed
		count(p.ids) == 0
		id := level_denial[p.level]
	}
}

red_members(obj, org) := {
	"roles": {role |
		some r in obj.recipients
		r.org == org.id
		role := r.role
		is_string(role)
	},
	"individuals": {who |
		some r in obj.recipients
		r.org == org.id
		who := r.individual
		is_string(who)
	},
}

red_named(obj, org) := count(m.roles) + count(m.individuals) > 0 if {
	m := red_members(obj, org)
}

# --- one organisation -------------------------------------------------------------------------------

verdict(obj, info, common) := {
	"org_id": info.org.id,
	"allowed": count(deny) == 0,
	"allow": allow,
	"deny": deny,
	"constraints": constraints,
	"grant": {
		"org_id": info.org.id,
		"roles": members.roles,
		"individuals": members.individuals,
		"not_before_ns": emb.not_before_ns,
		"not_after_ns": lib.min_or_null((scope.ends | pd.ends) | common.retention.ends),
	},
} if {
	producer := obj.producer_org == info.org.id
	marking := marking_outcome(obj, info, producer, common)
	scope := scope_outcome(obj, info, producer, common.exempt)
	pd := personal_data_outcome(obj, info, producer, common)
	members := grant_members(obj, info.org, common)
	emb := embargo_for(producer, common)
	deny := ((((marking.deny | scope.deny) | pd.deny) | common.retention.deny) | members.deny) | info.denials
	allow := ((marking.allow | scope.allow) | pd.allow) | producer_allow(producer)
	constraints := ((scope.constraints | pd.constraints) | common.retention.constraints) | emb.constraints
}

producer_allow(true) := {"producer.own_object"}

producer_allow(false) := set()

# --- organisation type and jurisdiction --------------------------------------------------------------

# The producer always keeps its own objects; CLEAR-only objects are exempt (settings).
scope_outcome(_, _, true, _) := lib.outcome({"jurisdiction.producer_org"}, set(), set(), set())

scope_outcome(obj, info, false, exempt) := lib.outcome({"jurisdiction.exempt_level"}, set(), set(), set()) if {
	exempt
} else := scope_by_type(obj, info, info.scope)

scope_by_type(_, _, "national") := lib.outcome({"jurisdiction.national"}, set(), set(), set())

scope_by_type(obj, info, "released") := released_outcome(lib.covering(info.releases, obj, false))

scope_by_type(obj, info, "area") := lib.outcome({"jurisdiction.in_area"}, set(), set(), set()) if {
	info.org.area in obj.areas
} else := lib.outcome({"jurisdiction.widened_area"}, set(), set(), set()) if {
	lib.widened_to(obj, info.org.area)
} else := lib.outcome(set(), {"jurisdiction.outside_area"}, set(), set())

scope_by_type(_, _, scope) := lib.outcome(set(), {"jurisdiction.unknown_scope"}, set(), set()) if {
	not scope in {"national", "released", "area"}
}

released_outcome(rs) := lib.outcome(
	lib.ids("jurisdiction.released:", rs),
	set(),
	lib.latest_end(rs),
	lib.ending_ids("release.expires:", rs),
) if {
	count(rs) > 0
} else := lib.outcome(set(), {"jurisdiction.not_released"}, set(), set())

# --- personal data -----------------------------------------------------------------------------------

personal_data_outcome(obj, info, producer, common) := lib.outcome(set(), set(), set(), set()) if {
	obj.personal_data != true
} else := lib.outcome({"personal_data.producer_org"}, set(), set(), set()) if {
	producer
} else := lib.outcome(set(), {"personal_data.not_lea"}, set(), set()) if {
	not info.lea
} else := lib.merge(legal_basis_outcome(info.bases), border_outcome(obj, info, common))

legal_basis_outcome(bases) := lib.outcome(set(), {"personal_data.no_legal_basis"}, set(), set()) if {
	count(bases) == 0
} else := lib.outcome(
	lib.ids("personal_data.legal_basis:", bases),
	set(),
	lib.latest_end(bases),
	lib.ending_ids("legal_basis.expires:", bases),
)

# Within the producer's country no transfer is needed; across a border a recorded release must say so.
border_outcome(obj, info, common) := lib.outcome({"personal_data.same_country"}, set(), set(), set()) if {
	info.org.country == common.producer_country
} else := cross_border_outcome(lib.covering(info.releases, obj, true))

cross_border_outcome(rs) := lib.outcome(
	lib.ids("personal_data.cross_border_release:", rs),
	set(),
	lib.latest_end(rs),
	lib.ending_ids("release.expires:", rs),
) if {
	count(rs) > 0
} else := lib.outcome(set(), {"personal_data.no_cross_border_release"}, set(), set())

# --- time: retention and embargo ---------------------------------------------------------------------

retention_days(obj) := data.popart.retention.personal_data_days_by_kind[obj.kind] if {
	data.popart.retention.personal_data_days_by_kind[obj.kind]
} else := data.popart.retention.personal_data_days

retention_end_ns(obj) := obj.created_ns + ((retention_days(obj) * 86400) * 1000000000)

retention_outcome(obj, now_ns) := lib.outcome(set(), set(), set(), set()) if {
	obj.personal_data != true
} else := lib.outcome(set(), {"retention.expired"}, set(), set()) if {
	now_ns >= retention_end_ns(obj)
} else := lib.outcome(set(), set(), {retention_end_ns(obj)}, {"retention.expires"})

embargo_outcome(obj, now_ns) := {"not_before_ns": obj.embargo_until_ns, "constraints": {"embargo.until"}} if {
	is_number(obj.embargo_until_ns)
	obj.embargo_until_ns > now_ns
} else := {"not_before_ns": null, "constraints": set()}

# The producer is never held back by its own embargo.
embargo_for(true, _) := {"not_before_ns": null, "constraints": set()}

embargo_for(false, common) := common.embargo

# --- who inside the organisation ---------------------------------------------------------------------

grant_members(obj, org, common) := lib.members(restrict_roles(obj, m.roles), m.individuals) if {
	"red" in common.levels
	m := red_members(obj, org)
} else := lib.members(common.roles, set())

# Personal data narrows the roles to those allowed to handle it.
restrict_roles(obj, roles) := {r |
	some r in settings.personal_data_roles
	lib.role_in(r, roles)
} if {
	obj.personal_data == true
} else := roles
