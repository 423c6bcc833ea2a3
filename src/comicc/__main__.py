from comicc.cli import run

run()
