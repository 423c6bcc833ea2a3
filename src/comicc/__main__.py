"""``python -m comicc``: the command line."""

from comicc.launch import main

main()
