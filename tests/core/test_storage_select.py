"""Choosing a storage by URL: SQLite built in, other schemes from plugins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import hposampler
from hposampler.errors import PluginError, UnknownSamplerError
from hposampler.storage import SQLiteStorage, StorageSpec, make_storage


class MemoryPlugin:
    """Registers ``mem://`` backed by a SQLite file named after the URL's path."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hposampler.hookimpl
    def register_storages(self, register: Any) -> None:
        register(StorageSpec("mem", lambda url: SQLiteStorage(self.folder / url.split("://")[1]),
                             aliases=("memory",)))  # fmt: skip


def test_paths_and_sqlite_urls_are_sqlite(tmp_path: Path, isolated_plugins: Any) -> None:
    isolated_plugins()
    for target in (tmp_path / "a.db", str(tmp_path / "b.db"), f"sqlite:///{tmp_path / 'c.db'}"):
        storage = make_storage(target)
        assert isinstance(storage, SQLiteStorage) and storage.url.startswith("sqlite:///")
    assert make_storage(storage) is storage  # a storage object is used as is


def test_a_plugin_scheme_is_used_and_unknown_ones_list_the_installed(
    tmp_path: Path, isolated_plugins: Any
) -> None:
    isolated_plugins(("mem-plugin", MemoryPlugin(tmp_path)))
    assert isinstance(make_storage("mem://x.db"), SQLiteStorage)
    assert isinstance(make_storage("memory://y.db"), SQLiteStorage)
    assert (tmp_path / "x.db").exists() and (tmp_path / "y.db").exists()
    with pytest.raises(UnknownSamplerError) as info:
        make_storage("memm://z")
    assert "unknown storage 'memm://'" in str(info.value)
    assert "Did you mean 'mem://'" in str(info.value) and "sqlite://" in str(info.value)


def test_two_plugins_claiming_one_scheme_are_named(tmp_path: Path, isolated_plugins: Any) -> None:
    # one clash policy for every plugin kind: the first keeps it, the clash is recorded
    registry = isolated_plugins(
        ("first", MemoryPlugin(tmp_path)), ("second", MemoryPlugin(tmp_path))
    )
    assert isinstance(make_storage("mem://x.db"), SQLiteStorage)
    assert registry.storages()["mem"][1].name == "first"
    [name, alias] = [c for c in registry.clashes if c.what == "storage"]
    assert (name.kind, name.value, alias.kind, alias.value) == ("name", "mem", "alias", "memory")
    message = str(name)
    assert "first (test-dist 0)" in message and "second (test-dist 0)" in message


def test_strict_mode_refuses_two_plugins_claiming_one_scheme(
    tmp_path: Path, isolated_plugins: Any
) -> None:
    from hposampler.plugins.registry import reset_plugins
    from support import build_registry

    reset_plugins(build_registry(("first", MemoryPlugin(tmp_path)),
                                 ("second", MemoryPlugin(tmp_path)), strict=True))  # fmt: skip
    with pytest.raises(PluginError, match="storage 'mem' from plugin") as info:
        make_storage("mem://x.db")
    assert "first (test-dist 0)" in str(info.value) and "second (test-dist 0)" in str(info.value)


class NotAStoragePlugin:
    """Registers ``dict://`` whose factory returns a plain dict."""

    @hposampler.hookimpl
    def register_storages(self, register: Any) -> None:
        register(StorageSpec("dict", lambda url: {"url": url}))


def test_a_factory_returning_no_storage_is_refused_naming_the_plugin(
    isolated_plugins: Any,
) -> None:
    isolated_plugins(("dict-plugin", NotAStoragePlugin()))
    with pytest.raises(PluginError) as info:
        make_storage("dict://anything")
    message = str(info.value)
    assert "dict://" in message and "dict-plugin (test-dist 0)" in message
    assert "returned dict" in message and "Storage protocol" in message


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("postgresql://user:s3cret@db.example:5432/hpo", "s3cret"),
        ("postgresql://user:p@ss@word@localhost/hpo", "p@ss@word"),  # an unencoded @
        ("postgresql://user@localhost/hpo?password=s3cret&sslmode=require", "s3cret"),
        ("postgresql://localhost?sslpassword=k3y", "k3y"),
        ("postgres://:onlypass@localhost/hpo", "onlypass"),
    ],
)
def test_printed_urls_mask_every_credential_form(url: str, secret: str) -> None:
    from hposampler.storage import mask_url

    masked = mask_url(url)
    assert secret not in masked and "***" in masked
    assert "localhost" in masked or "db.example" in masked  # the rest stays readable
    error = f'connection failed: invalid option in "{url}"'
    assert secret not in mask_url(url, error)
    assert mask_url("/tmp/study.db") == "/tmp/study.db"
