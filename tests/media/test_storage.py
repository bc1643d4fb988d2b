"""The media store: atomic writes, keys that cannot leave the root, files following the transaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from fsspec.implementations.local import LocalFileSystem  # type: ignore[import-untyped]

from app.db.session import Database, unit_of_work
from app.media.service import clean_file_name
from app.media.storage import (
    MediaStore,
    StorageUnavailable,
    delete_after_commit,
    new_key,
    write_in_transaction,
)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_put_read_delete(tmp_path: Path) -> None:
    root = tmp_path / "media"  # created on demand
    store = MediaStore(root)
    key = new_key("t1")
    store.put(key, b"abc")
    assert store.read(key) == b"abc"
    assert store.exists(key)
    assert _files(root) == [root / key]
    store.delete(key)
    store.delete(key)  # twice is harmless
    assert not store.exists(key)


@pytest.mark.parametrize(
    "key", ["../escape.jpg", "/etc/passwd", "t1/../../x.jpg", "t1/a b.jpg", "t1/x", "", "t1/.hidden.jpg", "t1\\x.jpg"]
)
def test_keys_cannot_leave_the_root(tmp_path: Path, key: str) -> None:
    store = MediaStore(tmp_path)
    with pytest.raises(ValueError, match="invalid media key"):
        store.put(key, b"x")
    with pytest.raises(ValueError, match="invalid media key"):
        store.read(key)


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = MediaStore(tmp_path)

    def disk_full(self: LocalFileSystem, path1: str, path2: str, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(LocalFileSystem, "mv", disk_full)
    key = new_key("t1")
    with pytest.raises(StorageUnavailable):
        store.put(key, b"x" * 1000)
    assert _files(tmp_path) == []  # the partial file is removed too


class Abort(Exception):
    pass


def test_files_follow_the_transaction(tmp_path: Path, database: Database) -> None:
    store = MediaStore(tmp_path)
    kept, undone, in_savepoint = new_key("t1"), new_key("t1"), new_key("t1")

    with unit_of_work(database) as db:
        write_in_transaction(db, store, kept, b"1")
        try:
            with db.begin_nested():
                write_in_transaction(db, store, in_savepoint, b"2")
                raise Abort
        except Abort:
            pass
        assert not store.exists(in_savepoint)  # its savepoint rolled back
    assert store.exists(kept)

    try:
        with unit_of_work(database) as db:
            write_in_transaction(db, store, undone, b"3")
            raise Abort
    except Abort:
        pass
    assert not store.exists(undone)

    # Deleting waits for the commit, and a rollback keeps the file.
    try:
        with unit_of_work(database) as db:
            delete_after_commit(db, store, kept)
            raise Abort
    except Abort:
        pass
    assert store.exists(kept)
    with unit_of_work(database) as db:
        delete_after_commit(db, store, kept)
        assert store.exists(kept)
    assert not store.exists(kept)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("IMG_0001.JPG", "IMG_0001.JPG"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\photo.jpg", "photo.jpg"),
        ("a.jpg\x00.php", "a.jpg.php"),
        ("photo\r\n.jpg", "photo.jpg"),
        ("\u202egpj.exe", "gpj.exe"),
        ("", ""),
    ],
)
def test_file_names_are_cleaned_for_display(raw: str, shown: str) -> None:
    assert clean_file_name(raw) == shown


def test_long_file_names_keep_their_extension() -> None:
    name = clean_file_name("x" * 300 + ".jpeg")
    assert len(name) == 200
    assert name.endswith("….jpeg")
