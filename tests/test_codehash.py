"""Digests of comicc's own code (comicc.pipeline.codehash): the same whether made
from the bytes or taken from the user cache, and made again when a file changes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

import comicc
from comicc.codecache import CODE_CACHE_ENV
from comicc.pipeline import codehash
from comicc.pipeline.codehash import code_digest_of, hash_code

PARTS = ("syntax", "units.py")


def from_the_bytes(prefix: str, parts: tuple[str, ...]) -> str:
    h = hashlib.sha256(prefix.encode())
    hash_code(h, parts)
    return h.hexdigest()


@pytest.fixture
def kept_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CODE_CACHE_ENV, str(tmp_path / "code"))
    return tmp_path / "code" / "digests.json"


@pytest.fixture
def own_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the parts of comicc the digests are of, as if it were comicc."""
    root = tmp_path / "comicc"
    src = Path(comicc.__file__).parent
    shutil.copytree(src / "syntax", root / "syntax", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(src / "units.py", root / "units.py")
    (root / "__init__.py").write_text("", encoding="utf-8")
    monkeypatch.setattr(codehash.comicc, "__file__", str(root / "__init__.py"))
    return root


def test_a_kept_digest_is_the_one_made_from_the_bytes(kept_in: Path) -> None:
    expected = from_the_bytes("v1", PARTS)
    assert code_digest_of("v1", PARTS) == expected  # made, and kept
    assert kept_in.is_file()
    assert code_digest_of("v1", PARTS) == expected  # taken from the user cache
    assert code_digest_of("v2", PARTS) == from_the_bytes("v2", PARTS)


def test_any_change_to_the_code_makes_it_again(kept_in: Path, own_copy: Path) -> None:
    before = code_digest_of("v1", PARTS)
    module = own_copy / "syntax" / "ast.py"
    stat = module.stat()
    text = module.read_text(encoding="utf-8")
    # same size, same modification time: the change time and the bytes still differ
    module.write_text(text.replace("a", "b", 1), encoding="utf-8")
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    edited = code_digest_of("v1", PARTS)
    assert edited != before and edited == from_the_bytes("v1", PARTS)
    (own_copy / "syntax" / "new.py").write_text("", encoding="utf-8")  # a module added
    added = code_digest_of("v1", PARTS)
    assert added not in (before, edited) and added == from_the_bytes("v1", PARTS)


def test_a_cache_someone_else_can_write_or_damaged_is_not_used(
    kept_in: Path, own_copy: Path
) -> None:
    code_digest_of("v1", PARTS)
    forged = {key: "0" * 64 for key in json.loads(kept_in.read_text())}
    kept_in.write_text(json.dumps(forged), encoding="utf-8")
    kept_in.chmod(0o666)  # anyone may write it: not trusted
    assert code_digest_of("v1", PARTS) == from_the_bytes("v1", PARTS)
    kept_in.write_bytes(b"{not json")
    assert code_digest_of("v1", PARTS) == from_the_bytes("v1", PARTS)


def test_with_the_cache_off_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CODE_CACHE_ENV, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert code_digest_of("v1", PARTS) == from_the_bytes("v1", PARTS)
    assert not any(tmp_path.rglob("*"))
