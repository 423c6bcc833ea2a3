"""``python -m comicc``: the command line."""

from comicc.cli import run

run()
