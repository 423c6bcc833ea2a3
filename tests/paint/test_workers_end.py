"""A pool shut down while a call runs waits for its processes to end; forked
workers load the image codecs before their first panel."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forking: Linux only")


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )


@linux
def test_a_pool_shut_down_while_a_call_runs_waits_for_its_processes():
    run = _python(
        """
        import os, threading, time
        from comicc.paint.workers import WorkerPool, WorkersGone

        pool = WorkerPool(1)
        assert pool.fork_now()
        pid = pool.run(os.getpid)
        started = threading.Event()

        def call():
            started.set()
            try:
                pool.run(time.sleep, 0.5)
            except WorkersGone:
                pass

        t = threading.Thread(target=call)
        t.start()
        started.wait()
        time.sleep(0.2)  # the call submitted (it sleeps 0.5 s in the worker)
        pool.shutdown()  # from another thread than the call's, as cancel() does
        try:
            os.kill(pid, 0)
            ended = False
        except ProcessLookupError:
            ended = True
        t.join()
        print(ended)
        """
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True"]


@linux
def test_forked_workers_load_the_image_codecs_before_their_first_panel():
    run = _python(
        """
        import sys
        from comicc.paint.workers import WorkerPool

        def loaded():
            return "PIL.PngImagePlugin" in sys.modules and "PIL.JpegImagePlugin" in sys.modules

        here = loaded()
        pool = WorkerPool(1)
        assert pool.fork_now()
        print(here, pool.run(loaded))
        pool.shutdown()
        """
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "True"]
