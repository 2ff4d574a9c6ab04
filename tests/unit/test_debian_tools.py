"""scripts/ensure-debian-tools.sh, run against a fake dpkg and apt: it names the protobuf
runtime the Go client needs, and refuses loudly to go on with the one that panics."""

from __future__ import annotations

import subprocess
from pathlib import Path

from helpers import ROOT

SCRIPT = ROOT / "scripts" / "ensure-debian-tools.sh"
OLD_RUNTIME = "golang-github-golang-protobuf-1-3-dev"
NEW_RUNTIME = "golang-github-golang-protobuf-1-5-dev"


def _run(
    tmp_path: Path, installed: set[str] | None, absent: set[str]
) -> tuple[subprocess.CompletedProcess[str], str]:
    """The script with dpkg-query answering "installed" for every package but `absent`
    and the old runtime (unless `installed` names it), and apt-get recording what it was
    asked."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    asked = tmp_path / "apt-asked"
    extra = " ".join(sorted(installed or ()))
    (bin_dir / "dpkg-query").write_text(
        "#!/bin/sh\n"
        'package="$3"\n'  # dpkg-query -W -f=FORMAT PACKAGE
        f'case " {" ".join(sorted(absent))} " in *" $package "*) exit 1 ;; esac\n'
        f'case "$package" in {OLD_RUNTIME}) case " {extra} " in *" $package "*) ;; *) exit 1 ;; esac ;; esac\n'
        'echo "install ok installed"\n'
    )
    (bin_dir / "apt-get").write_text(f'#!/bin/sh\necho "$@" >> {asked}\n')
    (bin_dir / "id").write_text("#!/bin/sh\necho 0\n")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    done = subprocess.run(
        ["sh", str(SCRIPT)],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done, asked.read_text() if asked.exists() else ""


def test_a_clean_machine_is_given_the_protobuf_runtime_that_works(tmp_path: Path) -> None:
    """apt's choice for "1-3 | 1-5" is 1-3 on a clean machine, so the script names 1-5."""
    done, asked = _run(tmp_path, None, {NEW_RUNTIME, "golang-google-grpc-dev"})
    assert 0 == done.returncode, done.stderr
    assert NEW_RUNTIME in asked.split()


def test_a_machine_with_the_old_runtime_fails_loudly(tmp_path: Path) -> None:
    """A machine where Go would build against 1.3 stops here, naming the fix, instead of a
    nil-pointer panic inside the Go client's test."""
    done, _ = _run(tmp_path, {OLD_RUNTIME}, set())
    assert 1 == done.returncode
    assert f"apt-get install -y {NEW_RUNTIME}" in done.stderr


def test_a_machine_with_everything_right_installs_nothing(tmp_path: Path) -> None:
    done, asked = _run(tmp_path, None, set())
    assert (0, "") == (done.returncode, asked)
