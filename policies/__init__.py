"""POP-ART Exchange: policies."""
