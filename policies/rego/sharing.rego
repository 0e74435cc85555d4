# METADATA
# title: POP-ART sharing policy
# description: |
#   Decides, for each stored object version, which organisations (and which of their roles or
#   individuals) may see it and during which interval. Entry point: data.popart.sharing.decisions,
#   evaluated over input.objects in one call (batch).
#
#   How it reads: for one object, every rule names the set of organisations it allows, denies or
#   constrains (rule id -> organisations). An organisation is allowed when no deny rule names it, and
#   its verdict lists the ids of every rule that names it, so compliance officers can ask "why".
#
#   Input: {"now_ns": int, "objects": [facts...], "organisations": {id: org} (optional)}
#   Data:  data.popart.{organisations, org_types, communities, releases, legal_bases, retention,
#          markings, settings}
#
#   Written for both OPA (v1 syntax) and rego-cpp (regopy): comprehension heads are variables bound
#   in the body (rego-cpp loses outer variables used in a head), `some k, v in` is avoided, and no
#   function reads `input`: the time and the organisations travel in `env`, so unit tests call the
#   functions directly instead of using `with input as` (which crashes rego-cpp). Rules are computed
#   as sets per object rather than per (object, organisation) pair, because rego-cpp pays per call.
package popart.sharing

import data.popart.lib

# The organisations on the hub: the hub may pass its registry in the input, else the data document.
organisations := input.organisations if {
	input.organisations
} else := data.popart.organisations

settings := data.popart.settings

# One decision per object of input.objects, in order. With input.explain == false the verdicts (the
# rule ids per organisation) are left out and only the grants computed: the same rules, less work.
decisions := [d |
	some obj in input.objects
	d := decide(obj, query_env)
] if {
	object.get(input, "explain", true) != false
} else := [d |
	some obj in input.objects
	d := decide_grants(obj, query_env)
]

query_env := environment(input.now_ns, organisations)

# --- what every decision of one query shares (computed once) -----------------------------------------

environment(now_ns, orgs) := {
	"now_ns": now_ns,
	"all": ids,
	"exempt_levels": {level | some level in settings.jurisdiction_exempt_levels},
	"members": {id | some id in ids; object.get(orgs[id], "member", false) == true},
	"unknown_type": {id | some id in ids; not data.popart.org_types[orgs[id].type]},
	"inactive": {id | some id in ids; object.get(orgs[id], "active", true) == false},
	"lea": {id | some id in ids; object.get(data.popart.org_types, [orgs[id].type, "lea"], false) == true},
	"national": scoped(orgs, "national"),
	"released": scoped(orgs, "released"),
	"area": scoped(orgs, "area"),
	"area_of": {id: area | some id in ids; area := object.get(orgs[id], "area", null)},
	"country_of": {id: country | some id in ids; country := orgs[id].country},
	"peers": {id: peers | some id in ids; peers := community_peers(id)},
	"releases": [r | some r in releases; lib.not_ended(r, now_ns)],
	"bases": {id: bases | some id in ids; bases := valid_bases(id, now_ns)},
} if {
	ids := {id | some id in object.keys(orgs)}
}

scoped(orgs, scope) := {id |
	some id in object.keys(orgs)
	object.get(data.popart.org_types, [orgs[id].type, "scope"], null) == scope
}

# Organisations sharing a community with `id` (itself included when it is in one).
community_peers(id) := {peer |
	some c in object.keys(data.popart.communities)
	id in data.popart.communities[c].members
	some peer in data.popart.communities[c].members
}

valid_bases(org_id, now_ns) := [b |
	some b in legal_bases
	b.org == org_id
	lib.non_empty(b.basis)
	lib.non_empty(b.purpose)
	lib.not_ended(b, now_ns)
]

# Data documents with their ids and parsed end times.
releases := [r |
	some id in object.keys(data.popart.releases)
	r := lib.with_id_and_end(data.popart.releases[id], id)
]

legal_bases := [b |
	some id in object.keys(data.popart.legal_bases)
	b := lib.with_id_and_end(data.popart.legal_bases[id], id)
]

# --- one object ----------------------------------------------------------------------------------------

decide(obj, env) := {
	"object_id": obj.id,
	"levels": rules.levels,
	"verdicts": verdicts,
} if {
	rules := object_rules(obj, env)
	verdicts := [v |
		some id in env.all
		v := verdict(id, obj, rules)
	]
}

# The grants only: an organisation is allowed when no deny rule names it.
decide_grants(obj, env) := {
	"object_id": obj.id,
	"levels": rules.levels,
	"grants": [g |
		some id in allowed
		g := grant(id, obj, rules)
		count(g.deny) == 0
	],
} if {
	rules := object_rules(obj, env)
	allowed := env.all - union({orgs | some r in rules.deny; orgs := r.orgs})
}

# Every rule of the policy applied to one object: lists of {"id", "orgs"} (and {"end", "orgs"}).
# Each family of rules returns a list of outcomes; they are flattened once here (rego-cpp copies terms).
object_rules(obj, env) := {
	"levels": levels,
	"producer": producer,
	"allow": [r | some p in parts; some r in p.allow],
	"deny": [r | some p in parts; some r in p.deny],
	"constraints": [r | some p in parts; some r in p.constraints],
	"ends": [r | some p in parts; some r in p.ends],
	"not_before_ns": emb.not_before_ns,
	"roles": restrict_roles(obj, {"*"}),
} if {
	levels := object_levels(obj)
	producer := {obj.producer_org} & env.all
	emb := embargo_rules(obj, env, producer)
	exempt := count(levels - env.exempt_levels) == 0
	parts := array.concat(
		array.concat(marking_rules(obj, env, levels, producer), scope_rules(obj, env, producer, exempt)),
		array.concat(
			array.concat(personal_data_rules(obj, env, producer), retention_rules(obj, env)),
			[lib.outcome([lib.rule("producer.own_object", producer)], org_rules(env), emb.constraints, [])],
		),
	)
}

org_rules(env) := [
	lib.rule("org.unknown_type", env.unknown_type),
	lib.rule("org.inactive", env.inactive - env.unknown_type),
]

# --- markings: every level the object carries must let the organisation pass ----------------------

marking_level(id) := data.popart.markings.levels[id]

marking_level(id) := "unknown" if not data.popart.markings.levels[id]

object_levels(obj) := {level |
	some m in obj.markings
	not m in data.popart.markings.ignored
	level := marking_level(m)
} if {
	count(obj.markings) > 0
} else := {data.popart.markings.unmarked}

marking_rules(obj, env, levels, producer) := [lib.outcome(
	[r |
		some p in per_level
		some r in p.allow
	],
	[r |
		some p in per_level
		r := p.deny
	],
	[], [],
)] if {
	per_level := [p |
		some level in levels
		p := level_rules(level, obj, env, producer)
	]
}

# Per level: the rules that let organisations pass, and the organisations none of them lets pass.
level_rules(level, obj, env, producer) := {"allow": allow, "deny": lib.rule(level_denial[level], env.all - passed)} if {
	allow := level_allow(level, obj, env, producer)
	passed := {id |
		some r in allow
		some id in r.orgs
	}
}

level_allow("clear", _, env, _) := [lib.rule("tlp.clear.on_hub", env.all)]

level_allow("green", _, env, producer) := [
	lib.rule("tlp.green.member", env.members),
	lib.rule("tlp.green.producer_org", producer),
]

level_allow("amber", obj, env, producer) := [
	lib.rule("tlp.amber.recipient", named_orgs(obj) & env.all),
	lib.rule("tlp.amber.producer_community", object.get(env.peers, obj.producer_org, set())),
	lib.rule("tlp.amber.producer_org", producer),
]

level_allow("amber+strict", obj, env, producer) := [
	lib.rule("tlp.amber_strict.recipient", named_orgs(obj) & env.all),
	lib.rule("tlp.amber_strict.producer_org", producer),
]

level_allow("red", obj, env, _) := [lib.rule("tlp.red.named", red_named_orgs(obj) & env.all)]

level_allow("unknown", _, _, producer) := [lib.rule("marking.unknown.producer_org", producer)]

level_denial := {
	"clear": "tlp.clear.denied",
	"green": "tlp.green.not_member",
	"amber": "tlp.amber.not_recipient_or_community",
	"amber+strict": "tlp.amber_strict.not_producer_or_recipient",
	"red": "tlp.red.not_named",
	"unknown": "marking.unknown",
}

named_orgs(obj) := {org | some r in obj.recipients; org := r.org}

# TLP:RED names individuals or roles; an organisation named without either is not named.
red_named_orgs(obj) := {org |
	some r in obj.recipients
	lib.names_someone(r)
	org := r.org
}

# --- organisation type and jurisdiction (the producer keeps its own objects) ----------------------------

scope_rules(_, env, producer, true) := [lib.outcome(
	[lib.rule("jurisdiction.producer_org", producer), lib.rule("jurisdiction.exempt_level", env.all - producer)],
	[], [], [],
)]

scope_rules(obj, env, producer, false) := [
	released_rules(obj, env, producer),
	area_rules(obj, env, producer),
	lib.outcome(
		[lib.rule("jurisdiction.producer_org", producer), lib.rule("jurisdiction.national", env.national - producer)],
		[lib.rule("jurisdiction.unknown_scope", (((env.all - env.national) - env.released) - env.area) - producer)],
		[], [],
	),
]

# Associated LEAs see only what a recorded release covers; the grant ends with the release.
released_rules(obj, env, producer) := lib.release_rules(
	"jurisdiction.released:",
	"jurisdiction.not_released",
	lib.covering(env.releases, obj, false),
	env.released - producer,
)

# Local authorities see objects about their area, or widened to it by the producer.
area_rules(obj, env, producer) := lib.outcome(
	[lib.rule("jurisdiction.in_area", in_area), lib.rule("jurisdiction.widened_area", widened)],
	[lib.rule("jurisdiction.outside_area", (local - in_area) - widened)],
	[], [],
) if {
	local := env.area - producer
	in_area := {id | some id in local; env.area_of[id] in obj.areas}
	widened := {id | some id in local; not id in in_area; lib.widened_to(obj, env.area_of[id])}
}

# --- personal data: only LEAs with a legal basis, across a border only with a recorded release ---------

personal_data_rules(obj, env, producer) := [] if {
	obj.personal_data != true
} else := [
	lib.outcome(
		[lib.rule("personal_data.producer_org", producer), lib.rule("personal_data.same_country", same)],
		[lib.rule("personal_data.not_lea", others - env.lea)],
		[], [],
	),
	legal_basis_rules(env, leas),
	cross_border_rules(obj, env, leas - same),
] if {
	others := env.all - producer
	leas := others & env.lea
	producer_country := object.get(env.country_of, obj.producer_org, null)
	same := {id | some id in leas; env.country_of[id] == producer_country}
}

legal_basis_rules(env, leas) := lib.outcome(
	[r |
		some id in leas
		some b in env.bases[id]
		r := lib.rule(concat("", ["personal_data.legal_basis:", b.id]), {id})
	],
	[lib.rule("personal_data.no_legal_basis", {id | some id in leas; count(env.bases[id]) == 0})],
	[r |
		some id in leas
		some b in env.bases[id]
		b.end_ns != null
		r := lib.rule(concat("", ["legal_basis.expires:", b.id]), {id})
	],
	[e |
		some id in leas
		some end in lib.latest_end(env.bases[id])
		e := lib.end_rule(end, {id})
	],
)

cross_border_rules(obj, env, foreign) := lib.release_rules(
	"personal_data.cross_border_release:",
	"personal_data.no_cross_border_release",
	lib.covering(env.releases, obj, true),
	foreign,
)

# --- time: retention of personal data, embargo ----------------------------------------------------------

retention_days(obj) := data.popart.retention.personal_data_days_by_kind[obj.kind] if {
	data.popart.retention.personal_data_days_by_kind[obj.kind]
} else := data.popart.retention.personal_data_days

retention_end_ns(obj) := obj.created_ns + ((retention_days(obj) * 86400) * 1000000000)

retention_rules(obj, env) := [] if {
	obj.personal_data != true
} else := [lib.outcome([], [lib.rule("retention.expired", env.all)], [], [])] if {
	env.now_ns >= retention_end_ns(obj)
} else := [lib.outcome(
	[], [],
	[lib.rule("retention.expires", env.all)],
	[lib.end_rule(retention_end_ns(obj), env.all)],
)]

# The producer is never held back by its own embargo.
embargo_rules(obj, env, producer) := {
	"not_before_ns": obj.embargo_until_ns,
	"constraints": [lib.rule("embargo.until", env.all - producer)],
} if {
	is_number(obj.embargo_until_ns)
	obj.embargo_until_ns > env.now_ns
} else := {"not_before_ns": null, "constraints": []}

# --- one organisation: the rules that name it ----------------------------------------------------------

verdict(id, obj, rules) := {
	"org_id": id,
	"allowed": count(deny) == 0,
	"allow": lib.naming(rules.allow, id),
	"deny": deny,
	"constraints": lib.naming(rules.constraints, id),
	"grant": g,
} if {
	g := grant(id, obj, rules)
	deny := lib.naming(rules.deny, id) | g.deny
}

# What one organisation is granted if it is allowed (deny: grant.no_eligible_members when nobody is left).
grant(id, obj, rules) := {
	"org_id": id,
	"roles": members.roles,
	"individuals": members.individuals,
	"not_before_ns": not_before(id, rules),
	"not_after_ns": lib.min_or_null({end |
		some e in rules.ends
		id in e.orgs
		end := e.end
	}),
	"deny": members.deny,
} if {
	members := grant_members(obj, id, rules)
}

not_before(id, rules) := null if {
	id in rules.producer
} else := rules.not_before_ns

# Who inside the organisation: named roles and individuals for TLP:RED, else every role allowed.
grant_members(obj, id, rules) := lib.members(restrict_roles(obj, roles), individuals) if {
	"red" in rules.levels
	roles := {role | some r in obj.recipients; r.org == id; role := r.role; is_string(role)}
	individuals := {who | some r in obj.recipients; r.org == id; who := r.individual; is_string(who)}
} else := lib.members(rules.roles, set())

# Personal data narrows the roles to those allowed to handle it.
restrict_roles(obj, roles) := {r |
	some r in settings.personal_data_roles
	lib.role_in(r, roles)
} if {
	obj.personal_data == true
} else := roles
