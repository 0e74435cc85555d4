"""JSON schemas of the profile's extensions (a package so the wheel ships them as package data)."""
