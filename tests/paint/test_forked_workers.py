"""The painting's worker processes forked from the build itself (no forkserver,
nothing to import), only while that is safe, loading the image codecs before
their first panel, and waited for when shut down; freed image memory reused in
a painting process; each image planned once."""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys
import textwrap
import threading

import pytest

from comicc.diagnostics import Sink
from comicc.paint import plan as paint_plan
from comicc.paint import scheduler
from comicc.paint.workers import WorkerPool
from comicc.pipeline import BuildOptions, build
from support.build import checked_text

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forking: Linux only")


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )


@linux
def test_workers_forked_now_are_this_process_children_with_its_modules():
    run = _python(
        """
        import os, sys, types
        from comicc.paint.workers import WorkerPool

        sys.modules["loaded_by_the_build"] = types.ModuleType("loaded_by_the_build")

        def seen(name):
            return os.getppid(), name in sys.modules

        pool = WorkerPool(2)
        assert pool.fork_now()
        assert pool.ready()  # up at once: nothing to import
        parent, loaded = pool.run(seen, "loaded_by_the_build")
        pool.shutdown()
        print(parent == os.getpid(), loaded)
        """
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "True"]


@linux
def test_forked_workers_never_collect_what_the_build_made():
    """The build's objects are frozen in the workers (their collector passes
    would touch every one, copying the build's memory page by page), and
    collected in the build again once the workers are forked."""
    run = _python(
        """
        import gc
        from comicc.paint.workers import WorkerPool

        made = [[n] for n in range(50_000)]  # a build's many small objects
        pool = WorkerPool(2)
        assert pool.fork_now()
        theirs = pool.run(gc.get_freeze_count)
        pool.shutdown()
        print(theirs > len(made), gc.get_freeze_count())
        """
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "0"]


def test_no_fork_while_another_thread_runs():
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        pool = WorkerPool(2)
        assert not pool.fork_now()
        assert not pool.ready()
    finally:
        stop.set()
        other.join()


@pytest.mark.skipif(ctypes.util.find_library("c") is None, reason="glibc's allocator")
@linux
def test_freed_image_memory_is_reused_not_mapped_again():
    """Painting draft panels one after another in one process (as a worker
    does): once keep_freed_memory() ran, the next panels' images reuse the
    memory the last ones freed instead of having new pages mapped (page faults)."""
    code = """
        import resource, sys
        from support.panels import make_panel, two_speaker_geom
        from comicc.backends.draft import DraftBackend
        from comicc.paint.finish import paint_locally
        from comicc.paint.plan import plan_panel
        if sys.argv[1] == "keep":
            from comicc.paint.memory import keep_freed_memory
            keep_freed_memory()
        backend = DraftBackend()

        def paint(k):
            panel = make_panel(dpi=300, number=k, seed=k)
            plan = plan_panel(panel, two_speaker_geom(), backend.capabilities, variant=1)
            paint_locally(backend, plan, "jpeg", 90)

        paint(1)  # the heap grows to what a panel needs
        paint(2)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for k in range(3, 9):
            paint(k)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
        """
    tests = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    counts = {}
    for mode in ("keep", "default"):
        run = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code), mode],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONPATH": tests},
        )
        assert run.returncode == 0, run.stderr
        counts[mode] = int(run.stdout)
    if counts["default"] < 1000:  # this C library reuses freed blocks anyway
        pytest.skip(f"the allocator reuses freed blocks by itself here: {counts}")
    assert counts["keep"] < counts["default"] / 10, counts


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


def test_a_build_plans_each_image_once(tmp_path, monkeypatch):
    lines = ["title: Once", "seed: 7", "dpi: 72", "character HAMMY: a hamster", ""]
    for p in (1, 2):
        lines += [f"PAGE {p}", "layout: 2/2", ""]
        for k in range(1, 5):
            lines += [f"PANEL {k}", f"A kitchen, shot {p}.{k}.", f"{k}. HAMMY: Shot {p}.{k}.", ""]
    res = checked_text("\n".join(lines), str(tmp_path / "once.comic"))
    planned: list[str] = []
    real = paint_plan.plan_panel

    def counting(panel, *args, **kw):
        planned.append(panel.id)
        return real(panel, *args, **kw)

    monkeypatch.setattr(paint_plan, "plan_panel", counting)
    monkeypatch.setattr(scheduler, "plan_panel", counting)
    import comicc.pipeline.plan as book_plan

    monkeypatch.setattr(book_plan, "plan_panel", counting)
    sink = Sink()
    opts = BuildOptions(
        output=str(tmp_path / "once.pdf"),
        cache_dir=str(tmp_path / "cache"),
        workers=1,
        progress=False,
        write_lock=False,
    )
    assert build(res.script, res.theme, sink, opts) is not None, sink.errors
    assert sorted(planned) == sorted(p.id for p in res.script.panels)
    assert os.path.getsize(tmp_path / "once.pdf") > 0


@linux
def test_workers_end_by_themselves_when_the_pool_closes_their_pipes():
    # each forked worker holds copies of the build's pipe ends made before it:
    # unless it closes them, it never sees its pipe closed and has to be killed
    run = _python(
        """
        import multiprocessing, os
        from comicc.paint.workers import WorkerPool

        pool = WorkerPool(3)
        assert pool.fork_now()
        pids = {pool.call(os.getpid, worker=i)[0] for i in range(3)}
        children = [p for p in multiprocessing.active_children() if p.pid in pids]
        pool.shutdown()
        print(len(pids), sorted(p.exitcode for p in children))
        """
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["3", "[0,", "0,", "0]"]


@linux
def test_a_pool_that_does_not_wait_leaves_its_workers_to_end_by_themselves():
    """``shutdown(wait=False)`` (all painted) returns before the processes have
    exited; they exit with code 0 all the same, and are reaped by the next pool
    started or, as here, when the build exits: nothing is left running."""
    run = _python(
        """
        import multiprocessing, os, time
        from comicc.paint.workers import WorkerPool

        pool = WorkerPool(2)
        assert pool.fork_now()
        pids = {pool.call(os.getpid, worker=i)[0] for i in range(2)}
        children = [p for p in multiprocessing.active_children() if p.pid in pids]
        pool.shutdown(wait=False)
        print(" ".join(str(p) for p in pids))
        for _ in range(600):  # they leave once their pipes are closed
            if not multiprocessing.active_children():
                break
            time.sleep(0.05)
        print(sorted(p.exitcode for p in children))
        again = WorkerPool(2)  # a later painting in the same build forks as before
        assert again.fork_now()
        again.shutdown(wait=False)
        """
    )
    assert run.returncode == 0, run.stderr
    pids, codes = run.stdout.splitlines()
    assert codes == "[0, 0]"
    for pid in map(int, pids.split()):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # gone, not a process of its own now


@linux
def test_a_call_runs_in_the_worker_it_names():
    run = _python(
        """
        import os
        from comicc.paint.workers import WorkerPool

        pool = WorkerPool(2)
        assert pool.fork_now()
        first = [pool.call(os.getpid, worker=i) for i in (0, 1)]
        again = [pool.call(os.getpid, worker=i) for i in (1, 0, 1, 0)]
        pool.shutdown()
        print(first[0][0] != first[1][0], [i for _, i in first + again])
        print(all(pid == first[i][0] for pid, i in again))
        """
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "[0,", "1,", "1,", "0,", "1,", "0]", "True"]


@linux
def test_a_network_answer_is_finished_with_the_images_its_request_was_drawn_with(tmp_path):
    """The worker that drew a request (prepare_body) keeps its init image and
    mask for the answer (finish_answer, sent to that worker): each panel's
    images are drawn once, and the art is the same as when they are drawn again."""
    code = f"""
        import base64, hashlib
        from pathlib import Path
        from support.panels import make_panel, two_speaker_geom
        from comicc.backends.automatic1111 import Automatic1111Backend
        from comicc.paint import ArtCache
        from comicc.paint import plan as paint_plan
        from comicc.paint.finish import CacheWrite
        from comicc.paint.workers import WorkerPool, finish_answer, prepare_body

        drawn = []
        real = paint_plan.PanelPlan.images

        def counted(self, size=None):
            drawn.append(size)
            return real(self, size)

        paint_plan.PanelPlan.images = counted

        def draws():
            return len(drawn)

        backend = Automatic1111Backend(urls="http://127.0.0.1:9")
        panel = make_panel(dpi=150, backend="automatic1111")
        plan = paint_plan.plan_panel(panel, two_speaker_geom(), backend.capabilities)
        arts = []
        pool = WorkerPool(2)
        assert pool.fork_now()
        for n, where in enumerate((0, None)):  # the worker that drew it; any (a draw again)
            body, at = pool.call(prepare_body, Automatic1111Backend, {{"urls": "http://x"}}, plan)
            answer = base64.b64decode(body["init_images"][0])  # a server that paints nothing
            to = CacheWrite(ArtCache(Path(r"{tmp_path}") / str(n)), "jpg", "a1111", False)
            if where is None:  # finished by the other worker, which drew nothing
                at = 1 - at
            done, _ = pool.call(finish_answer, plan, answer, 1, "jpeg", 90, to, worker=at)
            arts.append(hashlib.md5(done.art.data).hexdigest())
        counts = [pool.call(draws, worker=i)[0] for i in (0, 1)]
        pool.shutdown()
        print(arts[0] == arts[1], sum(counts))
        """
    tests = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": tests},
    )
    assert run.returncode == 0, run.stderr
    # two requests drawn, once each, and one answer drawn again: 3 (4 without the reuse)
    assert run.stdout.split() == ["True", "3"]
