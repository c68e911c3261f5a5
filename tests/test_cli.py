"""The terminal front end: watch rounds, list and remove, and errors as messages with exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import ROOT

STORY = ("Ferry service adds night crossings\nThe harbour ferry will add three night crossings from June, the "
         "operator said on Monday. Commuters had asked for later boats for years. The operator said the new "
         "crossings would run on weekdays and cost the same as day fares.\n")


def _run(args, env, timeout=300):
    return subprocess.run([sys.executable, "-m", "rag.frontends.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_watch_ingests_only_what_is_new_each_round(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "ferry.txt").write_text(STORY, encoding="utf-8")
    env = {"NEWSRAG_HOME": str(tmp_path / "h"), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    out = _run(["watch", str(inbox), "--every", "0.1s", "--rounds", "2"], env)
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if not line.startswith("  ")]  # "  added: ..." below
    assert len(lines) == 2
    assert "added 1" in lines[0] and lines[1].endswith("nothing new (1 unchanged)")


def test_watch_says_nothing_new_for_an_empty_inbox(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    env = {"NEWSRAG_HOME": str(tmp_path / "h"), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    out = _run(["watch", str(inbox), "--every", "0.1s", "--rounds", "2"], env)
    assert out.returncode == 0, out.stderr
    assert [line.split(" ", 2)[-1] for line in out.stdout.splitlines()] == ["nothing new", "nothing new"]
    assert "failed" not in out.stdout + out.stderr
    missing = _run(["watch", str(tmp_path / "no-such-folder"), "--rounds", "1"], env)
    assert "failed 1" in missing.stdout  # a folder that is not there is still an error


def test_list_json_remove_and_errors(tmp_path):
    (tmp_path / "ferry.txt").write_text(STORY, encoding="utf-8")
    env = {"NEWSRAG_HOME": str(tmp_path / "h"), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    assert _run(["ingest", "--quiet", str(tmp_path / "ferry.txt")], env).returncode == 0
    listed = json.loads(_run(["list", "--json"], env).stdout)
    assert [a["title"] for a in listed] == ["Ferry service adds night crossings"]
    removed = _run(["remove", listed[0]["id"]], env)
    assert removed.returncode == 0 and "removed" in removed.stdout
    assert json.loads(_run(["list", "--json"], env).stdout) == []
    missing = _run(["remove", "no-such-article"], env)
    assert missing.returncode == 1 and "newsrag list" in missing.stderr
    bad_setting = _run(["list"], {**env, "NEWSRAG_TYPO": "1"})
    assert bad_setting.returncode == 2 and "Unknown setting NEWSRAG_TYPO" in bad_setting.stderr
    too_small = _run(["list"], {**env, "NEWSRAG_TOP_K": "0"})
    assert too_small.returncode == 2 and "NEWSRAG_TOP_K=0 is too small" in too_small.stderr
    assert json.loads(_run(["list", "--json"], env).stdout) == []  # nothing stored was touched
    bad_interval = _run(["watch", str(tmp_path), "--every", "soon"], env)
    assert bad_interval.returncode == 2 and "interval" in bad_interval.stderr
