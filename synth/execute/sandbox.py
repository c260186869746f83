"""How a program is started: inside bubblewrap where it works, else with plain rlimits (one warning line).

Both ways go through the same bootstrap, a few lines of Python run with `-I -S` that (as root) drops to
a user id of its own for the pool slot, copies the program's files into the scratch directory, sets the
rlimits (synth.execute.limits) and execs the program, so the limits hold for the program and every
process it starts, and never for synth.

- ``bwrap``: a new mount, PID, network, IPC, UTS (and cgroup) namespace. The file system is a fresh
  tmpfs root with the system directories (/usr, /etc, /bin, /lib*) and the Python installation bound
  read-only, a private /proc and a minimal /dev, and two size-limited tmpfs, /scratch (the working
  directory, holding the program's files) and /tmp. The network namespace has only loopback. When the
  PID namespace's first process dies every process in it dies, so nothing outlives a run. As root,
  bubblewrap keeps only CAP_SETUID/CAP_SETGID for the bootstrap, which gives them up with its uid;
  as another user, a user namespace does the same job.
- ``rlimits``: the bootstrap alone, in a new session (process group). Limits hold; the file system,
  the network and other processes are the host's. As root the program still runs as a user of its own
  (when the interpreter is readable by it), which makes RLIMIT_NPROC bind (root is exempt) and lets a
  sweep kill whatever of that user outlives the run.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from synth.errors import ConfigError
from synth.execute.limits import Limits

log = logging.getLogger("synth.execute")

# The user ids programs run as when synth runs as root: one per pool slot, spread by process id so
# two synth processes on one machine rarely share one (they would share an RLIMIT_NPROC count).
UID_BASE = 40000
SLOTS_PER_PROCESS = 64

BOOTSTRAP = r"""
import json, os, resource, shutil, sys
cfg = json.loads(sys.argv[1])
try:
    if cfg["uid"] is not None:
        os.setgroups([]); os.setgid(cfg["uid"]); os.setuid(cfg["uid"])
    os.chdir(cfg["cwd"])
    for top, dirs, names in os.walk(cfg["files"]):
        rel = os.path.relpath(top, cfg["files"])
        os.makedirs(rel, exist_ok=True)
        for name in names:
            shutil.copyfile(os.path.join(top, name), os.path.join(rel, name))
    for name, soft, hard in cfg["rlimits"]:
        resource.setrlimit(getattr(resource, name), (soft, hard))
    os.execve(cfg["argv"][0], cfg["argv"], cfg["env"])
except OSError as exc:
    sys.stderr.write("synth sandbox: %s: %s\n" % (type(exc).__name__, exc))
    sys.stderr.flush()
    os._exit(125)
"""
SANDBOX_FAILED = 125  # the bootstrap's exit code when it could not start the program

_SYSTEM = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


def slot_uid(slot: int) -> int:
    return UID_BASE + (os.getpid() % 256) * SLOTS_PER_PROCESS + slot % SLOTS_PER_PROCESS


def program_env(home: str, tmp: str) -> dict[str, str]:
    """The program's whole environment: nothing of synth's (keys, endpoints) goes in."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": tmp, "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8"}


@dataclass(frozen=True)
class Sandbox:
    """One way of starting programs; `command` gives the argv that runs a prepared job."""

    kind: str            # "bwrap" | "rlimits"
    drop_uid: bool       # run programs as a user of their own (synth runs as root)
    bwrap: str | None = None

    @property
    def tag(self) -> str:
        """Part of every cache key: the same program may end differently in another sandbox."""
        return f"{self.kind}{'-uid' if self.drop_uid else ''}-py{sys.version_info[0]}.{sys.version_info[1]}"

    def command(self, job: Path, slot: int, limits: Limits, argv: list[str]) -> tuple[list[str], Path | None]:
        """(argv to start, the host scratch directory or None when the scratch is a tmpfs) for the job
        folder `job` (its `files/` hold the program's files; argv runs inside the scratch directory)."""
        uid = slot_uid(slot) if self.drop_uid else None
        if self.kind == "bwrap":
            cfg = {"uid": uid, "cwd": "/scratch", "files": "/job", "rlimits": limits.rlimits(), "argv": argv,
                   "env": program_env("/scratch", "/tmp")}
            return [*self._bwrap_args(job, limits), "--", sys.executable, "-I", "-S", "-c", BOOTSTRAP,
                    json.dumps(cfg)], None
        scratch = job / "scratch"
        scratch.mkdir(mode=0o700)
        if uid is not None:
            os.chown(scratch, uid, uid)
        cfg = {"uid": uid, "cwd": str(scratch), "files": str(job / "files"), "rlimits": limits.rlimits(),
               "argv": argv, "env": program_env(str(scratch), str(scratch))}
        return [sys.executable, "-I", "-S", "-c", BOOTSTRAP, json.dumps(cfg)], scratch

    def _bwrap_args(self, job: Path, limits: Limits) -> list[str]:
        args = [self.bwrap or "bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try", "--die-with-parent"]
        if os.geteuid() == 0:
            args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        else:
            args += ["--unshare-user"]
        args += _read_only_binds()
        size = str(limits.scratch_mb * 1024 * 1024)
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--size", size, "--perms", "1777", "--tmpfs", "/tmp",
                 "--size", size, "--perms", "1777", "--tmpfs", "/scratch",
                 "--ro-bind", str(job / "files"), "/job", "--chdir", "/scratch"]
        return args


@lru_cache(maxsize=1)
def _read_only_binds() -> list[str]:
    """bwrap arguments binding the system directories and this Python read-only at their own paths;
    the folders above a bound path are made 0755 (bwrap copies the host's mode, /root's 0700 included)."""
    args: list[str] = []
    bound: list[str] = []
    for path in _SYSTEM:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
            bound.append(path)
    made: set[str] = set()
    for path in sorted({os.path.realpath(p) for p in (sys.base_prefix, sys.prefix,
                                                      os.path.dirname(os.path.realpath(sys.executable)))}):
        if any(path == b or path.startswith(b + "/") for b in bound):
            continue
        parts = Path(path).parts
        for i in range(2, len(parts)):
            above = str(Path(*parts[:i]))
            if above not in made and not any(above == b or above.startswith(b + "/") for b in bound):
                args += ["--perms", "0755", "--dir", above]
                made.add(above)
        args += ["--ro-bind", path, path]
        bound.append(path)
    # a venv's interpreter is a symlink out of the venv: bind what it points at too
    for link in (sys.executable,):
        target = os.path.realpath(link)
        if not any(target.startswith(b + "/") for b in bound):
            args += ["--ro-bind", target, target]
    return args


def sweep(uid: int) -> int:
    """SIGKILL every live process of `uid` (what a program left behind, new sessions included); returns
    how many (zombies are not counted: they are dead, waiting for their parent)."""
    killed = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", encoding="ascii", errors="replace") as f:
                fields = dict(line.split(":", 1) for line in f if line.startswith(("State:", "Uid:")))
            if int(fields["Uid"].split()[0]) == uid and not fields["State"].strip().startswith(("Z", "X")):
                os.kill(int(entry.name), 9)
                killed += 1
        except (OSError, ValueError, KeyError):
            continue
    return killed


def detect(mode: str = "auto") -> Sandbox:
    """The sandbox for `mode` (auto: bubblewrap when it starts a probe program here, else rlimits with
    one warning line naming why); `bwrap` that does not work is a ConfigError."""
    if mode not in ("auto", "bwrap", "rlimits"):
        raise ConfigError(f"isolation: {mode!r} is not one of auto, bwrap, rlimits")
    return _detect(mode)


@lru_cache(maxsize=None)
def _detect(mode: str) -> Sandbox:
    root = os.geteuid() == 0
    why = "pass isolation: rlimits to silence this"
    if mode in ("auto", "bwrap"):
        found = shutil.which("bwrap")
        if found:
            box = Sandbox("bwrap", drop_uid=root, bwrap=found)
            problem = _probe(box)
            if problem is None:
                return box
            why = f"bubblewrap did not start a program here ({problem})"
        else:
            why = "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
        if mode == "bwrap":
            raise ConfigError(f"isolation: bwrap: {why}")
    box = Sandbox("rlimits", drop_uid=root)
    if root and _probe(box) is not None:  # the interpreter is not readable by another user (under /root, say)
        box = Sandbox("rlimits", drop_uid=False)
    if mode == "auto":
        log.warning("warning: programs run with rlimits only (no file system, network or process isolation%s): "
                    "%s", "" if box.drop_uid else "; as root, RLIMIT_NPROC does not bind", why)
    return box


def _probe(box: Sandbox) -> str | None:
    """None when `box` runs a trivial program to completion, else the first line of what went wrong."""
    job = Path(tempfile.mkdtemp(prefix="synth-probe-"))
    try:
        os.chmod(job, 0o711)
        (job / "files").mkdir(mode=0o755)
        argv, _ = box.command(job, 0, Limits(), [sys.executable, "-I", "-c", "print('ok')"])
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=30,
                              start_new_session=True)
        if proc.returncode == 0 and proc.stdout.strip() == b"ok":
            return None
        lines = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip().splitlines()
        return (lines[-1] if lines else f"exit code {proc.returncode}")[:200]
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{type(exc).__name__}: {exc}"[:200]
    finally:
        if box.drop_uid:
            sweep(slot_uid(0))
        shutil.rmtree(job, ignore_errors=True)
