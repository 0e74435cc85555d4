"""POP-ART Exchange: detectors."""
