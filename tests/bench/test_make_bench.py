"""`make bench` runs every benchmark in bench/, and only benchmarks: one that misses its targets
does not stop the others, and the run fails at the end naming it."""

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# A stand-in for the venv's python: logs the script it was asked to run and fails for one.
FAKE_PYTHON = """#!{python}
import sys
with open({log!r}, "a") as log:
    print(sys.argv[1], file=log)
sys.exit(1 if sys.argv[1].endswith("/client.py") else 0)
"""


def benchmarks() -> list[str]:
    """The scripts of bench/ that run as programs (the settings modules there do not)."""
    return sorted(
        f"bench/{path.name}"
        for path in (REPO_ROOT / "bench").glob("*.py")
        if 'if __name__ == "__main__":' in path.read_text()
    )


def test_every_benchmark_runs_even_after_one_misses_and_the_run_fails_naming_it(tmp_path):
    log = tmp_path / "ran"
    python = tmp_path / "python"
    python.write_text(FAKE_PYTHON.format(python=sys.executable, log=str(log)))
    python.chmod(0o755)

    result = subprocess.run(
        ["make", "--no-print-directory", "bench", f"BIN={tmp_path}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert sorted(log.read_text().split()) == benchmarks()
    assert "bench/sync.py" in benchmarks() and "bench/provision_settings.py" not in benchmarks()
    assert result.returncode != 0
    assert "targets missed (or the run failed): bench/client.py" in result.stdout
