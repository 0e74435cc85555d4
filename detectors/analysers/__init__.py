"""Analysers: plugins turning analysed items into observations, cheapest first behind a motion gate."""
