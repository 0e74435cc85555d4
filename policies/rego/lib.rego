# METADATA
# title: POP-ART policy helpers
# description: Small total functions (always defined) shared by the sharing and action policies.
package popart.lib

# A rule applied to one object: its id and the organisations it names.
rule(id, orgs) := {"id": id, "orgs": orgs}

# An end time (ns) that applies to the grants of these organisations.
end_rule(end, orgs) := {"end": end, "orgs": orgs}

# The rules of one family: lists of allow, deny and constraint rules, and end times.
outcome(allow, deny, constraints, ends) := {"allow": allow, "deny": deny, "constraints": constraints, "ends": ends}

# The ids of the rules that name an organisation.
naming(rules, id) := {name |
	some r in rules
	id in r.orgs
	name := r.id
}

members(roles, individuals) := {"roles": roles, "individuals": individuals, "deny": set()} if {
	count(roles) + count(individuals) > 0
} else := {"roles": roles, "individuals": individuals, "deny": {"grant.no_eligible_members"}}

names_someone(recipient) if is_string(recipient.role)

names_someone(recipient) if is_string(recipient.individual)

role_in(role, roles) if "*" in roles

role_in(role, roles) if role in roles

widened_to(obj, area) if "*" in obj.widened_areas

widened_to(obj, area) if {
	is_string(area)
	area in obj.widened_areas
}

non_empty(s) if {
	is_string(s)
	count(trim_space(s)) > 0
}

# A data record (release, legal basis) with its key as id and its not_after parsed to ns (or null).
with_id_and_end(record, id) := object.union(record, {"id": id, "end_ns": end_ns(record)})

end_ns(record) := time.parse_rfc3339_ns(record.not_after) if {
	is_string(record.not_after)
} else := null

not_ended(record, now) if record.end_ns == null

not_ended(record, now) if {
	record.end_ns != null
	record.end_ns > now
}

# The end of the longest-lasting record: none (unlimited) if any record has no end.
latest_end(records) := set() if {
	count(records) == 0
} else := set() if {
	some r in records
	r.end_ns == null
} else := {max(ends)} if {
	ends := {e | some r in records; e := r.end_ns}
}

min_or_null(xs) := min(xs) if {
	count(xs) > 0
} else := null

# The releases that cover an object; personal: only those recording a personal-data release.
covering(records, obj, personal) := [r |
	some r in records
	release_covers(r, obj)
	release_from_ok(r, obj)
	release_personal_ok(r, personal)
]

release_covers(r, obj) if r.all == true

release_covers(r, obj) if obj.id in object.get(r, "objects", [])

release_covers(r, obj) if obj.kind in object.get(r, "kinds", [])

release_covers(r, obj) if {
	some v in obj.venues
	v in object.get(r, "venues", [])
}

release_personal_ok(r, false) := true

release_personal_ok(r, true) if r.personal_data == true

# A release may be limited to one producing organisation.
release_from_ok(r, obj) if not r.from

release_from_ok(r, obj) if r.from == obj.producer_org

# Rules of a release-gated family: candidates reached by a covering release (ids prefix + release id),
# the others denied (deny_id); each grant ends with the longest of its releases.
release_rules(prefix, deny_id, rs, candidates) := outcome(
	[r |
		some rel in rs
		r := rule(concat("", [prefix, rel.id]), {rel.to} & targets)
	],
	[rule(deny_id, candidates - targets)],
	[r |
		some rel in rs
		rel.end_ns != null
		r := rule(concat("", ["release.expires:", rel.id]), {rel.to} & targets)
	],
	[e |
		some t in targets
		some end in latest_end([rel | some rel in rs; rel.to == t])
		e := end_rule(end, {t})
	],
) if {
	targets := {t | some rel in rs; t := rel.to} & candidates
}
