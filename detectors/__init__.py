"""POP-ART Exchange: detectors."""

__version__ = "0.1.0"
