"""``python -m minuta_cli``."""

from minuta_cli.main import run

run()
