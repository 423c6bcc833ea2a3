"""The worker processes of a finished painting end in the background (off the
build's path), and this process may fork again once they have; a pool shut
down while a call runs still waits for the processes to end; forked workers
load the image codecs before their first panel."""

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
def test_idle_workers_end_in_the_background_and_the_process_may_fork_again():
    run = _python(
        """
        import os, threading
        from comicc.paint.workers import WorkerPool, end_pending

        def gone(pid):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            return False

        pool = WorkerPool(2)
        assert pool.fork_now()
        pids = {pool.run(os.getpid) for _ in range(8)}
        pool.shutdown()  # nothing runs: returns, a thread waits for the processes
        enders = [t.name for t in threading.enumerate() if t.name == "comicc-workers-end"]
        end_pending()
        print(len(enders) <= 1, all(gone(pid) for pid in pids))
        again = WorkerPool(2)
        print(again.fork_now(), again.run(os.getppid) == os.getpid())
        again.shutdown()  # and the interpreter exits at once: no traceback from the pool
        """
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert run.stdout.split() == ["True", "True", "True", "True"]


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
        while not pool._running:  # the call is submitted
            time.sleep(0.01)
        pool.shutdown()  # from another thread than the call's, as cancel() does
        alive = [x.name for x in threading.enumerate() if x.name == "comicc-workers-end"]
        try:
            os.kill(pid, 0)
            ended = False
        except ProcessLookupError:
            ended = True
        t.join()
        print(ended, alive == [])
        """
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "True"]


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
