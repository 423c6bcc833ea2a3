"""The dataclasses' compiled methods kept between runs (comicc.codecache).

Each process here is a fresh interpreter, as the command line is: the cache is
read when it starts and written when it ends.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from comicc.codecache import CODE_CACHE_ENV, KeptCode, read_codes

# what a process prints: how many codes it read and compiled, and everything a
# dataclass's methods are made of, for a class of each kind (comicc's syntax
# tree and model, and one with every option that changes the generated code)
PROBE = r"""
import dataclasses, inspect, json, sys
from comicc.codecache import keep_dataclass_code
kept = keep_dataclass_code()
from dataclasses import dataclass, field

@dataclass(frozen=True)
class Probe:
    name: str
    size: int = 3
    tags: tuple[str, ...] = field(default_factory=tuple)
    note: str = field(default="", compare=False, repr=False)

@dataclass(order=True)
class Loose:
    a: int
    b: list[int] = field(default_factory=list)

from comicc.syntax import ast
from comicc.model import ir

def consts(code):
    # a set's order is the process's (string hashes are salted): compare them sorted
    return [sorted(c) if isinstance(c, frozenset) else c for c in code.co_consts]

def made_of(cls):
    out = {"doc": cls.__doc__, "signature": str(inspect.signature(cls))}
    for name in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__",
                 "__lt__", "__ge__"):
        fn = vars(cls).get(name)
        code = getattr(fn, "__code__", None)
        if code is None:
            out[name] = repr(fn)
            continue
        out[name] = [code.co_code.hex(), repr(consts(code)), code.co_varnames, code.co_names,
                     code.co_flags, code.co_filename, code.co_firstlineno, fn.__qualname__,
                     repr(fn.__defaults__), repr(fn.__kwdefaults__), repr(fn.__annotations__)]
    return out

classes = [Probe, Loose, ast.PageHead, ast.CharacterDef, ir.Script]
p = Probe("a", tags=("x",), note="n")
behaviour = [repr(p), p == Probe("a", tags=("x",), note="other"),
             hash(p) == hash(Probe("a", 3, ("x",))), Loose(1) < Loose(2), repr(Loose(1))]
try:
    p.name = "b"
except dataclasses.FrozenInstanceError as e:
    behaviour.append(type(e).__name__)
print(json.dumps({
    "kept": None if kept is None else [kept.loaded, kept.compiled],
    "classes": {c.__qualname__: made_of(c) for c in classes},
    "behaviour": behaviour,
}))
"""


def probe(folder: Path | str) -> dict:
    env = {**os.environ, CODE_CACHE_ENV: str(folder)}
    res = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def cache_file(folder: Path) -> Path:
    files = list(folder.glob("dataclasses-*.marshal"))
    assert len(files) == 1, files
    return files[0]


def test_the_next_process_compiles_nothing_and_makes_the_same_methods(tmp_path: Path) -> None:
    reference = probe("off")
    assert reference["kept"] is None
    first = probe(tmp_path)
    loaded, compiled = first["kept"]
    assert loaded == 0 and compiled > 50  # the probe's classes, the syntax tree's, the model's
    path = cache_file(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = probe(tmp_path)
    assert second["kept"] == [compiled, 0]  # every code read back, none compiled
    for run in (first, second):
        assert run["classes"] == reference["classes"]
        assert run["behaviour"] == reference["behaviour"]
    assert reference["behaviour"][-1] == "FrozenInstanceError"


def test_nothing_is_written_when_nothing_was_compiled(tmp_path: Path) -> None:
    probe(tmp_path)
    path = cache_file(tmp_path)
    before = path.stat().st_mtime_ns, path.stat().st_ino
    probe(tmp_path)
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == before


def test_off_keeps_nothing(tmp_path: Path) -> None:
    assert probe("off")["kept"] is None
    env = {**os.environ, CODE_CACHE_ENV: "off", "XDG_CACHE_HOME": str(tmp_path)}
    subprocess.run([sys.executable, "-m", "comicc", "--version"], env=env, check=True)
    assert not list(tmp_path.rglob("*.marshal"))


def test_a_file_someone_else_can_write_is_not_used(tmp_path: Path) -> None:
    compiled = probe(tmp_path)["kept"][1]
    path = cache_file(tmp_path)
    path.chmod(0o620)  # the group may write it: it could hold anyone's code
    assert probe(tmp_path)["kept"] == [0, compiled]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # written again, this user's only
    assert probe(tmp_path)["kept"] == [compiled, 0]


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut short
        lambda data: b"comicc-code-cache 1\n" + b"\xff" * 64,  # not marshal
        lambda data: b"something else entirely",
        lambda data: b"comicc-code-cache 1\n" + __import__("marshal").dumps({"x": 1}),
        lambda data: b"comicc-code-cache 1\n" + __import__("marshal").dumps(["a list"]),
    ],
)
def test_a_damaged_file_is_compiled_again(tmp_path: Path, damage) -> None:
    compiled = probe(tmp_path)["kept"][1]
    path = cache_file(tmp_path)
    path.write_bytes(damage(path.read_bytes()))
    run = probe(tmp_path)
    assert run["kept"] == [0, compiled]
    assert run["classes"] == probe("off")["classes"]
    assert len(read_codes(path)) == compiled  # and made whole again


def test_only_the_command_line_turns_it_on(tmp_path: Path) -> None:
    """Importing comicc (even its command line) as a library leaves ``dataclasses``
    alone; ``python -m comicc`` keeps its classes' code."""
    code = "import dataclasses, comicc.cli; print('exec' in vars(dataclasses))"
    env = {**os.environ, CODE_CACHE_ENV: str(tmp_path)}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert res.stdout.strip() == "False"
    assert not list(tmp_path.iterdir())
    script = tmp_path / "one.comic"
    script.write_text("title: One\n\nPAGE 1\n\nPANEL 1\nA room.\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "comicc", "check", str(script)], env=env, check=True)
    assert len(read_codes(cache_file(tmp_path))) > 100


def test_past_the_limit_only_what_the_last_process_used_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "codes.marshal"
    old = KeptCode(path)
    for n in range(5):
        old.exec(f"x = {n}", {})
    old.save()
    assert len(read_codes(path)) == 5
    monkeypatch.setattr("comicc.codecache.MAX_ENTRIES", 6)
    kept = KeptCode(path)
    assert kept.loaded == 5
    for text in ("x = 0", "y = 1", "y = 2"):  # one read back, two new: 7 in all
        kept.exec(text, {})
    kept.save()
    assert sorted(read_codes(path)) == ["x = 0", "y = 1", "y = 2"]


def test_the_code_runs_as_exec_would(tmp_path: Path) -> None:
    kept = KeptCode(tmp_path / "codes.marshal")
    for _ in range(2):  # compiled, then taken from what is kept
        names: dict = {}
        kept.exec("def f(a: int = 2):\n    return a * 3\n", {}, names)
        assert names["f"]() == 6 and names["f"].__annotations__ == {"a": int}
    assert kept.compiled == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_leaves_the_writing_to_its_parent(tmp_path: Path) -> None:
    path = tmp_path / "codes.marshal"
    kept = KeptCode(path)
    kept.exec("x = 1", {})
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        kept.save()
        os._exit(0)
    os.waitpid(pid, 0)
    assert not path.exists()
    kept.save()
    assert list(read_codes(path)) == ["x = 1"]
