"""Use cases of the hub; the only layer that commits a transaction."""
