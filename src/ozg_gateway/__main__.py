"""``python -m ozg_gateway``."""

from ozg_gateway.cli import main

main()
