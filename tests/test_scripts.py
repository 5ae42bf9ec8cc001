"""scripts/venv.sh's system steps, against stand-ins for apt-get, sudo and id.

The real apt-get would change this machine, so these run the scripts' own shell functions
with a PATH of recording stand-ins: who is asked to install what, and what the user is told.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = "/usr/bin/python3"


def stand_ins(bin_dir: Path, uid: int, sudo: bool) -> Path:
    """apt-get, id and (optionally) sudo that record their calls to calls.log and print a little."""
    bin_dir.mkdir()
    log = bin_dir / "calls.log"
    scripts = {
        "apt-get": f'echo "apt-get $* (DEBIAN_FRONTEND=${{DEBIAN_FRONTEND:-}})" >> {log}; echo "Get:1 http://deb.debian.org $*"\n'
                   f'if [ "$1" = install ]; then : > {bin_dir}/installed; fi',
        "id": f'[ "$1" = -u ] && echo {uid}',
    }
    if sudo:
        scripts["sudo"] = f'echo "sudo $*" >> {log}; exec "$@"'
    for name, body in scripts.items():
        path = bin_dir / name
        path.write_text("#!/bin/bash\n" + body + "\n")
        path.chmod(0o755)
    (bin_dir / "env").symlink_to("/usr/bin/env")
    return log


def run_sourced(script: str, bin_dir: Path, cwd: Path = ROOT, system_too: bool = False,
                **env: str) -> subprocess.CompletedProcess[str]:
    """``script`` in bash after sourcing scripts/venv.sh, with the stand-ins first (or alone) on PATH."""
    path = f"{bin_dir}:/usr/bin:/bin" if system_too else str(bin_dir)
    return subprocess.run(["/bin/bash", "-c", f"set -euo pipefail; . {ROOT}/scripts/venv.sh; {script}"],
                          cwd=cwd, env={"PATH": path, "HOME": str(cwd), **env},
                          capture_output=True, text=True, timeout=300)


def test_as_root_apt_get_runs_directly_and_its_output_is_shown(tmp_path: Path) -> None:
    log = stand_ins(tmp_path / "bin", uid=0, sudo=True)
    done = run_sourced('apt_install "the suite needs them" redis-server chromium', tmp_path / "bin")
    assert done.returncode == 0, done.stderr
    assert "==> installing redis-server chromium with apt-get: the suite needs them" in done.stderr
    assert "Get:1 http://deb.debian.org install -y redis-server chromium" in done.stdout  # apt's progress, not hidden
    assert log.read_text().splitlines() == [
        "apt-get update (DEBIAN_FRONTEND=)",
        "apt-get install -y redis-server chromium (DEBIAN_FRONTEND=noninteractive)",
    ]


def test_as_a_user_apt_get_runs_through_sudo(tmp_path: Path) -> None:
    log = stand_ins(tmp_path / "bin", uid=1000, sudo=True)
    done = run_sourced('apt_install "the suite needs it" redis-server', tmp_path / "bin")
    assert done.returncode == 0, done.stderr
    assert "==> installing redis-server with sudo apt-get: the suite needs it" in done.stderr
    assert log.read_text().splitlines() == [
        "sudo apt-get update",
        "apt-get update (DEBIAN_FRONTEND=)",
        "sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server",
        "apt-get install -y redis-server (DEBIAN_FRONTEND=noninteractive)",
    ]


def test_as_a_user_without_sudo_it_says_what_to_run_as_root(tmp_path: Path) -> None:
    log = stand_ins(tmp_path / "bin", uid=1000, sudo=False)
    done = run_sourced('apt_install "the suite needs it" redis-server', tmp_path / "bin")
    assert done.returncode == 1
    assert done.stderr == "==> the suite needs it: as root, run: apt-get install redis-server   (then run this again)\n"
    assert not log.exists()


def test_a_python_without_venv_gets_its_venv_package_then_the_environment(tmp_path: Path) -> None:
    """Debian's python3 before python3-venv is installed: ``import ensurepip`` fails."""
    bin_dir = tmp_path / "bin"
    log = stand_ins(bin_dir, uid=0, sudo=False)
    python = bin_dir / "python3"
    python.write_text(f'#!/bin/bash\nif [ "$*" = "-c import ensurepip" ] && [ ! -e {bin_dir}/installed ]; then exit 1; fi\n'
                      f'exec {SYSTEM_PYTHON} "$@"\n')
    python.chmod(0o755)
    version = subprocess.run([SYSTEM_PYTHON, "-c", 'import sys; print("%d.%d" % sys.version_info[:2])'],
                             capture_output=True, text=True, check=True).stdout.strip()
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "probe"\nversion = "0"\n\n'
                                            '[tool.setuptools]\npy-modules = []\n')
    (project / "constraints.txt").write_text("")
    cache = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
    done = run_sourced('ensure_venv ""; ensure_venv ""', bin_dir, cwd=project, system_too=True, PIP_CACHE_DIR=cache)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"apt-get install -y python{version}-venv (DEBIAN_FRONTEND=noninteractive)" in log.read_text()
    assert (project / ".venv" / "bin" / "python").exists()
    # Made and filled once: the second call found both done.
    assert done.stderr.count("making the project's virtual environment") == 1
    assert done.stderr.count("installing the Python packages") == 1
