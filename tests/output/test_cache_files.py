"""The user's own cache files (comicc.files.read_trusted / write_private): only a
bounded regular file of this user that no one else can write is read back."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from comicc.files import read_trusted, write_private


def test_a_written_file_is_private_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "entry.json"
    assert write_private(path, b"{}")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_trusted(path, 16) == b"{}"
    assert sorted(os.listdir(path.parent)) == ["entry.json"]  # no temp file left


@given(st.binary(max_size=64))
def test_what_is_written_is_what_is_read(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "entry"
        assert write_private(path, data)
        assert read_trusted(path, 64) == data
        if data:
            assert read_trusted(path, len(data) - 1) is None


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="no users on this system")
def test_a_file_others_can_write_is_read_only_when_ownership_is_not_asked(tmp_path: Path) -> None:
    path = tmp_path / "entry"
    path.write_bytes(b"data")
    path.chmod(0o666)
    assert read_trusted(path, 16) is None
    assert read_trusted(path, 16, own=False) == b"data"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.parametrize("own", [True, False])
def test_a_planted_fifo_is_refused_without_hanging(tmp_path: Path, own: bool) -> None:
    path = tmp_path / "entry"
    os.mkfifo(path, 0o600)
    assert read_trusted(path, 16, own=own) is None


def test_missing_too_large_and_folders_are_none(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * 17)
    big.chmod(0o600)
    assert read_trusted(big, 16) is None
    assert read_trusted(tmp_path / "missing", 16) is None
    assert read_trusted(tmp_path, 16) is None


def test_a_folder_that_cannot_be_made_is_no_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    assert write_private(tmp_path / "file" / "entry", b"data") is False
