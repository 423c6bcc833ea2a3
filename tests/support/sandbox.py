"""Fuzzing the command line, the runs: a sandbox folder per case and a
runner that executes one `python -m comicc ...` in it under a memory limit and
a hang guard, then checks the promises every run must keep.

A case folder holds ``work/`` (the script and whatever sits beside it),
``out/`` (the output path), ``cache/`` (``--cache-dir``), ``home/`` (``$HOME``
and the XDG folders), ``tmp/`` (``$TMPDIR``) and ``outside/victim.txt`` (a file
a hostile script or theme may point at). Every name, size and mtime under it
is compared before and after the run; only the paths a command may write can
change.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

MEMORY_LIMIT = 2 * 1024**3  # RLIMIT_AS of every comicc subprocess
HANG_GUARD_S = 60  # a hang detector, not a speed requirement

# Fake keys in the environment: none may ever be printed.
SECRETS = {
    "STABILITY_API_KEY": "sk-fuzz-stability-5ecret",
    "OPENAI_API_KEY": "sk-fuzz-openai-5ecret",
    "REPLICATE_API_TOKEN": "r8-fuzz-replicate-5ecret",
    "AUTOMATIC1111_PASSWORD": "fuzz-a1111-5ecret",
}


@dataclass(frozen=True)
class Sandbox:
    """The folders of one case (see the module docstring)."""

    root: Path

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def victim(self) -> Path:
        return self.root / "outside" / "victim.txt"

    @classmethod
    def create(cls, root: Path, files: dict[str, bytes]) -> Sandbox:
        box = cls(root)
        for sub in ("work", "out", "cache", "home/.config", "home/.cache", "tmp", "outside"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        box.victim.write_text("the writer's own file: no comicc run may touch it\n")
        for name, data in files.items():
            (box.work / name).write_bytes(data)
        return box


@dataclass(frozen=True)
class Outcome:
    """What one run did."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    changed: list[str]  # paths (relative to the case root) created, changed or deleted

    def describe(self) -> str:
        return (
            f"$ comicc {' '.join(self.argv)}\nexit {self.returncode}\n"
            f"changed: {self.changed}\n--- stdout (tail)\n{self.stdout[-1500:]}\n"
            f"--- stderr (tail)\n{self.stderr[-3000:]}"
        )


Snapshot = dict[str, tuple[str, int, int]]


def snapshot(root: Path) -> Snapshot:
    """Every path under ``root``: kind, size and mtime (directories: kind only)."""
    seen: Snapshot = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            rel = str(path.relative_to(root))
            st_ = path.lstat()
            if path.is_symlink():
                seen[rel] = ("link:" + os.readlink(path), 0, 0)
            elif path.is_dir():
                seen[rel] = ("dir", 0, 0)
            else:
                seen[rel] = ("file", st_.st_size, st_.st_mtime_ns)
    return seen


def _limit_memory() -> None:  # runs in the child, before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


_FONT_CACHE = Path(tempfile.gettempdir()) / "comicc-fuzz-font-cache"


def run_cli(box: Sandbox, argv: list[str]) -> Outcome:
    """Run ``python -m comicc *argv`` in ``box.work`` under the memory limit
    and the hang guard; return what it did."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMICC_", "HYPOTHESIS"))}
    env.update(SECRETS)
    env.update(
        HOME=str(box.root / "home"),
        XDG_CONFIG_HOME=str(box.root / "home" / ".config"),
        XDG_CACHE_HOME=str(box.root / "home" / ".cache"),
        TMPDIR=str(box.root / "tmp"),
        COMICC_CACHE=str(box.cache),
        COMICC_FONT_CACHE=str(_FONT_CACHE),  # comicc's own cache, shared by the cases
        HTTP_PROXY="http://127.0.0.1:9",  # nothing leaves the machine
        HTTPS_PROXY="http://127.0.0.1:9",
        ALL_PROXY="http://127.0.0.1:9",
        NO_PROXY="",
        PYTHONUTF8="1",
        COLUMNS="100",
    )
    before = snapshot(box.root)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "comicc", *argv],
            cwd=box.work,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=HANG_GUARD_S,  # hang guard, not a speed requirement
            preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(
            f"$ comicc {' '.join(argv)}: still running after {exc.timeout} s"
        ) from None
    after = snapshot(box.root)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    return Outcome(
        argv,
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
        changed,
    )


def check_promises(
    outcome: Outcome, allowed: Iterable[str] = (), codes: Iterable[int] = (0, 1)
) -> None:
    """The promises of every run: an expected exit code (never 3, never a
    signal), no traceback, no key printed, nothing changed but ``allowed``
    (paths relative to the case root, each with everything under it), and no
    temporary file left behind."""
    info = outcome.describe()
    assert outcome.returncode != 3, "internal error (exit 3)\n" + info
    assert outcome.returncode in tuple(codes), "unexpected exit code\n" + info
    assert "Traceback (most recent call last)" not in outcome.stderr + outcome.stdout, info
    for secret in SECRETS.values():
        assert secret not in outcome.stderr + outcome.stdout, "a key was printed\n" + info
    prefixes = tuple(allowed)
    stray = [
        p
        for p in outcome.changed
        if not any(p == a or p.startswith(a + "/") for a in prefixes)
        and not p.startswith("tmp/comicc-fonts")  # comicc's fallback font cache
        and not p.startswith("home/.cache/comicc")  # the grammar cache (syntax/grammar.py)
    ]
    assert not stray, f"changed outside the output path: {stray}\n" + info
    leftovers = [p for p in outcome.changed if p.endswith(".tmp")]
    assert not leftovers, f"temporary files left behind: {leftovers}\n" + info


def json_or_fail(text: str, outcome: Outcome) -> object:
    """``text`` parsed as JSON; a test failure naming the run if it is not."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise AssertionError(f"not JSON ({exc})\n" + outcome.describe()) from None


def in_sandbox(files: dict[str, bytes], body: Callable[[Sandbox], None]) -> None:
    """Run ``body`` in a fresh case folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="comicc-fuzz-") as tmp:
        body(Sandbox.create(Path(tmp), files))
