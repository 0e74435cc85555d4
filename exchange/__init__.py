"""POP-ART Exchange: exchange."""
