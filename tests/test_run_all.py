"""benchmarks/run_all.py: sections stamped with the commit they measured, a dirty working tree
refused, skipped or failed sections kept with their own older stamp (a throw-away git
repository with two tiny benchmark scripts stands in for the real, slow ones)."""

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import run_all  # noqa: E402


def git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "benchmarks").mkdir(parents=True)
    (repo / "benchmarks" / "bench_a.py").write_text(
        "import sys\nprint('# bench_a')\nprint('| x |'); print('|---|'); print('| 1 |')\n")
    (repo / "benchmarks" / "bench_b.py").write_text("import sys\nsys.exit(3)\n")
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "t")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "one")
    monkeypatch.setattr(run_all, "REPO", repo)
    monkeypatch.setattr(run_all, "RESULTS", repo / "benchmarks" / "RESULTS.md")
    monkeypatch.setattr(run_all, "LOGS", tmp_path / "logs")
    benchmarks = [run_all.Benchmark("bench_a", "the first"),
                  run_all.Benchmark("bench_b", "one that fails"),
                  run_all.Benchmark("bench_c", "one that needs a GPU", needs_gpu=True)]
    monkeypatch.setattr(run_all, "BENCHMARKS", benchmarks)
    monkeypatch.setattr(run_all, "BY_NAME", {b.name: b for b in benchmarks})
    monkeypatch.setattr(run_all, "has_gpu", lambda: False)
    return repo


def section(text, name):
    return text.split(f"<!-- section {name} ", 1)[1].split(f"<!-- end section {name} -->")[0]


def test_sections_are_stamped_dirty_trees_refused_and_skipped_sections_kept(repo):
    first = git(repo, "rev-parse", "--short=10", "HEAD")
    assert run_all.main([]) == 1, "a failing script makes the run fail"
    results = repo / "benchmarks" / "RESULTS.md"
    text = results.read_text()
    a = section(text, "bench_a")
    assert f"commit `{first}` (clean working tree)" in a
    assert "- command: `python benchmarks/bench_a.py`" in a and "exit status 0" in a
    assert "| 1 |" in a and "### bench_a" in a, "the output, its headings moved down"
    assert "*No results yet: its rerun on" in section(text, "bench_b")
    assert "*No results yet: this machine has no GPU.*" in section(text, "bench_c")
    assert f"at commit `{first}` (clean working tree)" in text.split("---")[0]

    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "results")
    (repo / "benchmarks" / "bench_a.py").write_text("print('| 2 |')\n")
    before = results.read_text()
    assert run_all.main([]) == 2, "uncommitted changes: refused"
    assert results.read_text() == before

    git(repo, "commit", "-qam", "two")
    second = git(repo, "rev-parse", "--short=10", "HEAD")
    assert run_all.main(["--skip", "bench_a", "bench_b"]) == 0
    text = results.read_text()
    a = section(text, "bench_a")
    assert "**Kept from an earlier run, not rerun by this one** (skipped with --skip)" in a
    assert f"It measured commit `{first}` (clean working tree), not this file's commit `{second}`" in a
    assert "| 1 |" in a and "| 2 |" not in a
    assert f"at commit `{second}`" in text.split("---")[0]

    git(repo, "commit", "-qam", "results again")
    third = git(repo, "rev-parse", "--short=10", "HEAD")
    assert run_all.main(["--only", "bench_a"]) == 0
    a = section(results.read_text(), "bench_a")
    assert "Kept" not in a and f"commit `{third}` (clean working tree)" in a and "| 2 |" in a
