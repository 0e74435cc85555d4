"""`python -m exchange` runs the popart CLI."""

from exchange.cli import main

main()
