# METADATA
# title: POP-ART policy helpers
# description: Small total functions (always defined) shared by the sharing and action policies.
package popart.lib

# An outcome of one rule family: rule ids that allowed or denied, end times (ns) and constraint ids.
outcome(allow, deny, ends, constraints) := {"allow": allow, "deny": deny, "ends": ends, "constraints": constraints}

members(roles, individuals) := {"roles": roles, "individuals": individuals, "deny": set()} if {
	count(roles) + count(individuals) > 0
} else := {"roles": roles, "individuals": individuals, "deny": {"grant.no_eligible_members"}}

named_org(obj, org) := true if {
	some r in obj.recipients
	r.org == org.id
} else := false

# The keys of a {rule id: bool} map whose value is true.
true_keys(checks) := {id |
	some id in object.keys(checks)
	checks[id] == true
}

merge(a, b) := outcome(a.allow | b.allow, a.deny | b.deny, a.ends | b.ends, a.constraints | b.constraints)

# The records (releases) that cover an object; personal: only those recording a personal-data release.
covering(records, obj, personal) := [r |
	some r in records
	release_covers(r, obj)
	release_from_ok(r, obj)
	release_personal_ok(r, personal)
]

all_in(xs, allowed) := true if {
	every x in xs {
		x in allowed
	}
} else := false

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

# Rule ids naming each record ("prefix" + id), and those of records with an end.
ids(prefix, records) := {id | some r in records; id := concat("", [prefix, r.id])}

ending_ids(prefix, records) := {id | some r in records; r.end_ns != null; id := concat("", [prefix, r.id])}

min_or_null(xs) := min(xs) if {
	count(xs) > 0
} else := null

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
