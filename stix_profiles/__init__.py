"""POP-ART Exchange: stix_profiles."""
