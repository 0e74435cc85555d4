"""POP-ART Exchange: adapters."""
