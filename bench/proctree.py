"""A process and its descendants, read from /proc: what the benchmarks measure a command's CPU and
memory by (a server or an ingest spawns workers and ffmpeg, so the parent alone says little)."""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Proc:
    cpu_seconds: float  #: utime + stime
    rss_bytes: int


def tree(pid: int) -> dict[int, Proc]:
    """`pid` and each of its descendants still running, by process id."""
    children: dict[int, list[int]] = defaultdict(list)
    procs: dict[int, Proc] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children[int(fields[1])].append(int(entry))
            procs[int(entry)] = Proc((int(fields[11]) + int(fields[12])) / TICK, int(fields[21]) * PAGE)
        except (OSError, IndexError, ValueError):
            continue  # ended while being read
    found: dict[int, Proc] = {}
    todo = [pid]
    while todo:
        p = todo.pop()
        if p in procs:
            found[p] = procs[p]
        todo += children.get(p, [])
    return found


def tree_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of `pid` and each of its running descendants, by process id."""
    return {p: proc.cpu_seconds for p, proc in tree(pid).items()}


def tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and all its running descendants."""
    return sum(proc.rss_bytes for proc in tree(pid).values())
