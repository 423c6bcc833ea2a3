"""The ``comicc`` program: what it sets up before the command line is imported.

The dataclasses' compiled methods are taken from the user cache
(:mod:`comicc.codecache`), so that must be in place before the first of them is
created, i.e. before :mod:`comicc.cli` and the modules it imports are.
"""

from __future__ import annotations


def main() -> None:
    """Run the ``comicc`` command line (``sys.argv``); exits with its status."""
    from comicc.codecache import keep_dataclass_code

    keep_dataclass_code()
    from comicc.cli import run

    run()
