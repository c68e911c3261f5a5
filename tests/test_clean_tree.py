"""The test suite leaves the work tree as it found it (`git status --porcelain` unchanged): conftest records
the tree when the session starts and fails the session at its end if anything tracked was rewritten or an
untracked, unignored file appeared. Here: that the check notices each kind of change."""

from __future__ import annotations

import subprocess

import pytest

from .clean_tree import describe_change, tree_state

pytestmark = pytest.mark.fast  # the fast tier (make test-fast): no model, no browser, no server

@pytest.fixture
def repo(tmp_path):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "screenshot.png").write_bytes(b"old picture")
    (tmp_path / ".gitignore").write_text("build/\n")
    git("add", "-A")
    git("-c", "user.email=t@example.org", "-c", "user.name=t", "commit", "-qm", "init")
    return tmp_path


def test_a_rewritten_tracked_file_is_a_change(repo):
    before = tree_state(repo)
    assert before == {}
    (repo / "docs" / "screenshot.png").write_bytes(b"new picture")
    after = tree_state(repo)
    assert describe_change(before, after) and "docs/screenshot.png" in describe_change(before, after)[0]
    # rewritten again while already modified: still seen (the status letter alone would not change)
    again = tree_state(repo)
    (repo / "docs" / "screenshot.png").write_bytes(b"newer picture")
    assert describe_change(again, tree_state(repo))


def test_new_untracked_files_count_and_ignored_ones_do_not(repo):
    before = tree_state(repo)
    (repo / "build").mkdir()
    (repo / "build" / "x.o").write_bytes(b"ignored")
    assert describe_change(before, tree_state(repo)) == []
    (repo / "inbox").mkdir()
    (repo / "inbox" / "a.txt").write_text("stray")
    assert any("inbox/a.txt" in line for line in describe_change(before, tree_state(repo)))


def test_outside_a_checkout_there_is_nothing_to_compare(tmp_path):
    assert tree_state(tmp_path / "nowhere") is None
