"""Processes read from /proc, not from `ps`: `ps` cuts its lines at $COLUMNS (80 when it is set and the
output is a pipe), so a long interpreter path pushes `llama_cpp.server` off the line and a test would
miss the process. /proc/PID/cmdline is the whole command line, wherever the project sits."""

from __future__ import annotations

import os
from pathlib import Path


def processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, full command line joined by spaces) for every process this user can read."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # it ended meanwhile, or is not ours to read
        # stat: "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")"
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        found[int(entry)] = (ppid, cmdline.replace(b"\0", b" ").decode(errors="replace").strip())
    return found


def children_running(ppid: int, needle: str) -> list[int]:
    """Child processes of `ppid` whose command line contains `needle`."""
    return sorted(pid for pid, (parent, args) in processes().items() if parent == ppid and needle in args)


def running(needle: str) -> set[int]:
    """Every process whose command line contains `needle`."""
    return {pid for pid, (_, args) in processes().items() if needle in args}
