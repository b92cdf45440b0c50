"""Generated docs are current: the hooks reference and the sampler capability tables."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

from hposampler.plugins import hookspecs

ROOT = Path(__file__).resolve().parents[2]


def hookspec_names() -> list[str]:
    return [
        name
        for name, func in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(func, "hposampler_spec")
    ]


def test_every_hookspec_has_a_docstring_and_a_section_in_the_guide() -> None:
    text = (ROOT / "docs" / "plugins.md").read_text()
    names = hookspec_names()
    assert {
        "register_samplers",
        "register_executors",
        "register_storages",
        "register_commands",
        "trial_sampled",
        "trial_unlocked",
        "trial_updated",
    } <= set(names)
    for name in names:
        assert (getattr(hookspecs, name).__doc__ or "").strip(), f"{name} has no docstring"
        assert f"### `{name}`" in text, f"docs/plugins.md does not document the hook {name}"


def check_generated(tool: str) -> subprocess.CompletedProcess[str]:
    """Run a doc generator in --check mode."""
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / tool), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )


def test_generated_hooks_reference_is_current() -> None:
    proc = check_generated("hooks_reference.py")
    assert proc.returncode == 0, proc.stderr


def test_generated_sampler_tables_are_current() -> None:
    proc = check_generated("samplers_doc.py")
    assert proc.returncode == 0, proc.stderr
    text = (ROOT / "docs" / "samplers.md").read_text()
    from hposampler import available_samplers

    for spec in available_samplers():
        if spec.name.split(":")[0] in ("grid", "optuna", "skopt"):
            assert f"### `{spec.name}`" in text


def test_generated_architecture_tables_are_current() -> None:
    # the hook list and the Storage protocol table in docs/architecture.md
    proc = check_generated("architecture_tables.py")
    assert proc.returncode == 0, proc.stderr
    text = (ROOT / "docs" / "architecture.md").read_text()
    for name in hookspec_names():
        assert f"| `{name}` |" in text
    from hposampler.storage import Storage

    for method in ("create_trial", "claim_trial", "delete_study", "changes"):
        assert callable(getattr(Storage, method)) and f"| `{method}(" in text


def test_every_install_line_in_the_docs_works_from_a_clone() -> None:
    """Our distributions are not on a package index: the docs install them from the
    clone's folders (which must exist); what a line names by name is a third-party
    package."""
    import re
    import shlex

    root = Path(__file__).resolve().parents[2]
    pages = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    found = 0
    for page in pages:
        if page.name == "changelog.md":  # history quotes what earlier releases said
            continue
        for line in re.findall(r"pip install ([^`\n#]+)", page.read_text()):
            for word in shlex.split(line.strip().rstrip(")").strip()):
                if word.startswith("-"):
                    continue
                found += 1
                target = word.split("[")[0].rstrip("/").replace("./hposampler/", "./", 1)
                if target.startswith((".", "/")):  # ours from the clone (an author's own: skip)
                    parts = target.split("/")  # "." alone: the author's own project
                    if len(parts) > 1 and parts[1] in ("core", "plugins", "docs"):
                        assert (root / target).is_dir(), f"{page.name}: {word} does not exist"
                else:
                    assert not re.match(r"(hposampler|hydra-hposampler)", target), (
                        f"{page.name}: `pip install {line.strip()}` names {target}, which is "
                        "not on a package index; install it from the clone (./plugins/...)"
                    )
    assert found > 10


def test_the_leaderboard_page_and_readme_table_match_the_committed_results() -> None:
    result = check_generated("leaderboard_doc.py")
    assert result.returncode == 0, result.stderr
    text = (ROOT / "docs" / "leaderboard.md").read_text()
    assert "`optuna-native:tpe`" in text and "`tpe`" in text
    for image in ("leaderboard-regret.png", "leaderboard-rank.png"):
        assert (ROOT / "docs" / "images" / image).read_bytes()[:4] == b"\x89PNG"
