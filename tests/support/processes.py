"""Starting a comicc process that a test will interrupt with Ctrl-C (SIGINT).

A test runner may itself run with Ctrl-C ignored (a background job of a
script: ``bash .ci/run &``): its children inherit that, Python then installs no
KeyboardInterrupt handler, and a Ctrl-C test would see a build that never
stops. A writer's terminal never starts comicc that way, so the tests that
press Ctrl-C start comicc as a terminal does.
"""

from __future__ import annotations

import signal


def ctrl_c_default() -> None:
    """``preexec_fn`` of a child a test will send SIGINT: the signal at its default."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
