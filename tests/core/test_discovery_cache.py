"""The entry-point cache: later processes skip importlib.metadata, and every change to
what is installed is seen (real throwaway distributions, in subprocesses)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hposampler.plugins.discovery import FoundEntryPoint
from support import make_dist, run_py

PLUGIN = """
import hposampler
from hposampler.randomsearch import RandomSearch

@hposampler.hookimpl
def register_samplers(register):
    register(hposampler.SamplerSpec("{family}:rand", RandomSearch,
                                    description="random, under another name"))
"""

PROBE = """
import json, sys
from hposampler.plugins import get_registry
registry = get_registry()
print(json.dumps({
    "plugins": {n: [i.module, i.distribution, i.version] for n, i in registry.plugins.items()
                if i.distribution},
    "samplers": sorted(n for n in registry.samplers() if n.startswith("cached")),
    "metadata_imported": "importlib.metadata" in sys.modules,
}))
"""


def probe(site: Path, cache: Path | str) -> dict:
    proc = run_py(site, PROBE, HPOSAMPLER_CACHE_DIR=str(cache))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    make_dist(site, "cached-one", "cached_one", PLUGIN.format(family="cached-one"))
    return site


def test_a_second_process_reads_the_cache_instead_of_importlib_metadata(
    site: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    first, second = probe(site, cache), probe(site, cache)
    assert first["metadata_imported"] and not second["metadata_imported"]
    assert second["plugins"] == first["plugins"]
    assert first["plugins"]["cached_one"] == ["cached_one", "cached-one", "1.2.3"]
    assert second["samplers"] == ["cached-one:rand"]
    [written] = cache.glob("entry-points-*.json")
    assert json.loads(written.read_text())["format"] == 1


def test_installing_editing_and_removing_a_distribution_is_seen(site: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert probe(site, cache)["samplers"] == ["cached-one:rand"]
    make_dist(site, "cached-two", "cached_two", PLUGIN.format(family="cached-two"))
    assert probe(site, cache)["samplers"] == ["cached-one:rand", "cached-two:rand"]
    # an entry point renamed in place (an editable install rewritten, a hand edit)
    points = site / "cached_two-1.2.3.dist-info" / "entry_points.txt"
    points.write_text("[hposampler]\nrenamed = cached_two\n")
    after = probe(site, cache)
    assert "renamed" in after["plugins"] and "cached_two" not in after["plugins"]
    # an upgrade: the dist-info folder is replaced by one of another version
    info = site / "cached_two-1.2.3.dist-info"
    for child in info.iterdir():
        child.unlink()
    info.rmdir()
    make_dist(site, "cached-two", "cached_two_v2", PLUGIN.format(family="cached-two"),
              ep_name="cached_two", version="2.0")  # fmt: skip
    assert probe(site, cache)["plugins"]["cached_two"] == ["cached_two_v2", "cached-two", "2.0"]
    # and removed
    info = site / "cached_two-2.0.dist-info"
    for child in info.iterdir():
        child.unlink()
    info.rmdir()
    assert probe(site, cache)["samplers"] == ["cached-one:rand"]


@pytest.mark.parametrize(
    "content",
    [
        "not json {",
        '{"format": 1, "stamp": "x", "entry_points": []}',
        "__import__('os').system('touch PWNED')",
        "[1, 2, 3]",
    ],
)
def test_a_cache_file_that_is_not_ours_is_ignored_and_replaced(
    site: Path, tmp_path: Path, content: str
) -> None:
    cache = tmp_path / "cache"
    probe(site, cache)
    [written] = cache.glob("entry-points-*.json")
    good = json.loads(written.read_text())
    written.write_text(content)
    again = probe(site, cache)
    assert again["samplers"] == ["cached-one:rand"] and again["metadata_imported"]
    assert json.loads(written.read_text()) == good
    assert not (site / "PWNED").exists() and not Path("PWNED").exists()


def test_a_cached_row_of_the_wrong_shape_is_not_trusted(site: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    probe(site, cache)
    [written] = cache.glob("entry-points-*.json")
    data = json.loads(written.read_text())
    data["entry_points"] = [["cached_one", 42, None, None]]
    written.write_text(json.dumps(data))
    assert probe(site, cache)["samplers"] == ["cached-one:rand"]


@pytest.mark.parametrize("setting", ["off", "unwritable"])
def test_without_a_usable_cache_folder_discovery_still_works(
    site: Path, tmp_path: Path, setting: str
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    cache = "off" if setting == "off" else str(blocker / "cache")
    for _ in range(2):
        found = probe(site, cache)
        assert found["samplers"] == ["cached-one:rand"] and found["metadata_imported"]
    assert not list(tmp_path.rglob("entry-points-*.json"))


def test_an_entry_point_value_is_imported_like_importlib_metadata_does() -> None:
    assert FoundEntryPoint("p", "json").load().__name__ == "json"
    assert FoundEntryPoint("p", "os.path:join").load().__name__ == "join"
    assert FoundEntryPoint("p", "os : path.join [extra]").load().__name__ == "join"
    with pytest.raises(ImportError, match="'module:attribute'"):
        FoundEntryPoint("p", "not a module!").load()
    with pytest.raises(AttributeError):
        FoundEntryPoint("p", "json:nowhere").load()


def test_a_finder_that_reports_distributions_of_its_own_turns_the_cache_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import sys

    from hposampler.plugins import discovery

    class OwnFinder:  # e.g. a zip-app's importer: its distributions have no stamp
        def find_spec(self, *args: object) -> None:
            return None

        def find_distributions(self, *args: object) -> list[object]:
            return []

    monkeypatch.setenv("HPOSAMPLER_CACHE_DIR", str(tmp_path / "cache"))
    assert discovery._stamp() is not None
    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, OwnFinder()])
    assert discovery._stamp() is None
    assert [e.name for e in discovery.find_entry_points()]  # read afresh, every time
    assert not (tmp_path / "cache").exists()


def test_writing_a_cache_file_deletes_those_written_over_30_days_ago(
    site: Path, tmp_path: Path
) -> None:
    import os
    import time

    cache = tmp_path / "cache"
    cache.mkdir()
    old, recent = cache / "entry-points-0000000000000000.json", cache / "entry-points-1.json"
    for path, days in ((old, 31), (recent, 29)):
        path.write_text("{}")
        when = time.time() - days * 86400
        os.utime(path, (when, when))
    probe(site, cache)
    assert not old.exists() and recent.exists()
    assert len(list(cache.glob("entry-points-*.json"))) == 2  # the recent one, the new one


def test_no_home_and_odd_path_entries_mean_no_cache_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    from hposampler.plugins import discovery

    monkeypatch.delenv("HPOSAMPLER_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(discovery.os.path, "expanduser", lambda path: path)
    assert discovery.cache_dir() is None  # not a folder named "~" in the working folder
    monkeypatch.setattr(sys, "path", [*sys.path, Path("/not/a/str/entry")])
    assert discovery._stamp() is None
