"""Sinks: where detections go (in-process callback, TAXII POST to a hub with a durable spool)."""
