"""The content-addressed local store behind the media service."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from core.media.storage import LocalDiskStorage, Storage, UnknownKey, content_key, key_for


def files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_put_answers_the_sha256_key_and_fans_files_out(tmp_path: Path) -> None:
    store = LocalDiskStorage(tmp_path / "media")
    assert isinstance(store, Storage)
    data = b"some photo bytes"
    digest = hashlib.sha256(data).hexdigest()

    key = store.put(data, ".jpg")

    assert key == f"{digest}.jpg" == content_key(data, ".jpg") == key_for(digest, ".jpg")
    assert files(tmp_path) == [tmp_path / "media" / digest[:2] / digest[2:4] / key]
    assert store.exists(key) and store.get(key) == data
    assert not store.exists(key_for(digest, ".png"))


def test_identical_content_is_stored_once(tmp_path: Path) -> None:
    store = LocalDiskStorage(tmp_path)
    keys = {store.put(b"same", ".webp") for _ in range(3)}
    with ThreadPoolExecutor(4) as pool:
        keys |= set(pool.map(lambda _: store.put(b"same", ".webp"), range(16)))
    assert len(keys) == 1
    assert len(files(tmp_path)) == 1  # no temporary file left behind either
    assert store.put(b"other", ".webp") not in keys
    assert len(files(tmp_path)) == 2


def test_a_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalDiskStorage(tmp_path)

    def refuse(source: str, target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("core.media.storage.os.replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        store.put(b"bytes", ".png")
    assert files(tmp_path) == []


def test_unknown_and_malformed_keys(tmp_path: Path) -> None:
    store = LocalDiskStorage(tmp_path / "media")
    (tmp_path / "secret.txt").write_text("not media")
    missing = key_for("0" * 64, ".jpg")
    with pytest.raises(UnknownKey):
        store.get(missing)
    for bad in (
        "../secret.txt",
        "0" * 63,
        "0" * 64 + "/../../secret.txt",
        "A" * 64,
        "0" * 64 + "\n",
    ):
        assert not store.exists(bad)
        with pytest.raises(UnknownKey):
            store.get(bad)
    for bad_suffix in ("jpg", ".JPG", "./x", ".toolongsuffix"):
        with pytest.raises(ValueError):
            store.put(b"x", bad_suffix)
