"""scripts/test_tools.sh: `make test` gets the machine's test tools (Chromium, promtool) on a
fresh machine, once, and says what to install where it cannot."""

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "test_tools.sh"

# A stand-in for apt-get: logs its arguments; `install` makes the packages' programs appear
# (chromium at $CHROMIUM, promtool in the fake bin directory), or fails when told to.
FAKE_APT_GET = """#!{python}
import os, stat, sys
bin_dir = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(bin_dir, "apt.log"), "a") as log:
    print(" ".join(sys.argv[1:]), file=log)
if "install" in sys.argv and os.environ.get("FAKE_APT_FAILS"):
    sys.exit(100)
made = []
if "chromium" in sys.argv:
    made.append(os.environ["CHROMIUM"])
if "prometheus" in sys.argv:
    made.append(os.path.join(bin_dir, "promtool"))
for path in made:
    with open(path, "w") as f:
        f.write("#!/bin/sh\\n")
    os.chmod(path, 0o755)
"""

FAKE_ID = """#!/bin/sh
echo {uid}
"""


def tools(tmp_path, *, uid=0, have_chromium=False, have_promtool=False, apt_fails=False):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (
        ("apt-get", FAKE_APT_GET.format(python=sys.executable)),
        ("id", FAKE_ID.format(uid=uid)),
    ):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    chromium = tmp_path / "chromium"
    if have_chromium:
        chromium.write_text("#!/bin/sh\n")
        chromium.chmod(0o755)
    if have_promtool:
        (bin_dir / "promtool").write_text("#!/bin/sh\n")
        (bin_dir / "promtool").chmod(0o755)
    # Only the fake bin directory on PATH: the machine's own promtool must not count.
    env = {"PATH": str(bin_dir), "CHROMIUM": str(chromium), "HOME": str(tmp_path)}
    if apt_fails:
        env["FAKE_APT_FAILS"] = "1"
    result = subprocess.run(
        ["/bin/bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30
    )
    log = bin_dir / "apt.log"
    apt_calls = log.read_text().splitlines() if log.exists() else []
    return result, apt_calls, chromium, bin_dir


def test_a_fresh_machine_gets_chromium_and_promtool_once(tmp_path):
    result, apt_calls, chromium, bin_dir = tools(tmp_path)

    assert result.returncode == 0, result.stderr
    assert apt_calls == [
        "update -qq",
        "install -y -qq chromium chromium-driver",
        "install -y -qq --no-install-recommends prometheus",
    ]
    assert os.access(chromium, os.X_OK)
    assert os.access(bin_dir / "promtool", os.X_OK)


def test_only_what_is_missing_is_installed(tmp_path):
    result, apt_calls, _, _ = tools(tmp_path, have_chromium=True)

    assert result.returncode == 0, result.stderr
    assert apt_calls == ["update -qq", "install -y -qq --no-install-recommends prometheus"]


def test_a_machine_that_has_both_installs_nothing(tmp_path):
    result, apt_calls, _, _ = tools(tmp_path, have_chromium=True, have_promtool=True)

    assert result.returncode == 0, result.stderr
    assert apt_calls == []
    assert result.stdout == ""


def test_a_user_who_cannot_install_is_told_what_to_install(tmp_path):
    result, apt_calls, _, _ = tools(tmp_path, uid=1000, have_chromium=True)

    assert result.returncode == 1
    assert apt_calls == []
    assert "sudo apt-get install prometheus" in result.stderr


def test_a_failed_install_stops_the_run_with_the_package_named(tmp_path):
    result, _, _, _ = tools(tmp_path, apt_fails=True)

    assert result.returncode == 1
    assert "could not install chromium" in result.stderr


def test_make_test_gets_the_tools_before_the_suite_runs():
    dry_run = subprocess.run(
        ["make", "-n", "test"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30
    )

    lines = dry_run.stdout.splitlines()
    tools_line = next(i for i, line in enumerate(lines) if "scripts/test_tools.sh" in line)
    pytest_line = next(i for i, line in enumerate(lines) if "bin/pytest" in line)
    assert tools_line < pytest_line
