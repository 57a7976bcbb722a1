"""Run ffmpeg, ffprobe and exiftool: never through a shell, always with a timeout, stderr kept in the error."""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import PurePath

FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"
EXIFTOOL = "exiftool"
#: What to install when a tool is missing (Debian package names).
PROVIDERS = {FFMPEG: "ffmpeg (it provides ffmpeg and ffprobe)", FFPROBE: "ffmpeg (it provides ffmpeg and ffprobe)",
             EXIFTOOL: "libimage-exiftool-perl (it provides exiftool)"}

#: How much of a tool's stderr an error keeps (the end, where ffmpeg says what went wrong).
STDERR_KEEP = 2000


class MediaToolError(Exception):
    """A tool (ffmpeg, ffprobe, exiftool) failed; carries the command, its exit status and the end of its stderr."""

    def __init__(self, message: str, *, args_list: Sequence[str], returncode: int | None = None,
                 stderr: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.args_list = list(args_list)
        self.returncode = returncode
        self.stderr = stderr

    def __str__(self) -> str:
        return self.message


class ToolTimeout(MediaToolError):
    """The tool ran longer than its timeout and was killed."""


class ToolError(MediaToolError):
    """The tool exited with a non-zero status."""


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to kill this tool when the thread that started it dies.

    A worker or an ingest killed with SIGKILL cannot kill its children itself; without this an
    orphaned ffmpeg goes on writing into a work folder that recovery is clearing.
    """
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


_PR_SET_PDEATHSIG = 1
if sys.platform == "linux":
    # Looked up once here: the child between fork and exec must not load libraries.
    _prctl = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl
    _CHILD_SETUP = _die_with_parent
else:
    _CHILD_SETUP = None


def tool_name(args: Sequence[str]) -> str:
    """The executable's base name, for messages ("ffmpeg", not "/usr/bin/ffmpeg")."""
    return PurePath(args[0]).name if args else "?"


def _tail(stderr: bytes) -> str:
    return stderr.decode("utf-8", "replace")[-STDERR_KEEP:]


def _gist(stderr: str, lines: int = 3) -> str:
    """The last few non-blank stderr lines on one line: usually the actual complaint."""
    kept = [line.strip() for line in stderr.splitlines() if line.strip()]
    return " / ".join(kept[-lines:]) or "(no error output)"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def run(args: list[str], *, timeout: float, input: bytes | None = None,
        ok_returncodes: Sequence[int] = (0,)) -> bytes:
    """Run one tool to completion and return its stdout; raise ToolTimeout or ToolError on failure.

    ok_returncodes: exit statuses that still mean success (exiftool exits 1 when one file of a
    batch could not be read, and prints the others all the same).
    """
    name = tool_name(args)
    try:
        # stdin is closed unless we feed it: ffmpeg otherwise reads the terminal for commands.
        proc = subprocess.Popen(args, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_CHILD_SETUP)
    except FileNotFoundError as exc:
        raise MediaToolError(f"{name} not found: install {PROVIDERS.get(name, name)} and put it on PATH",
                             args_list=args) from exc
    except OSError as exc:
        raise MediaToolError(f"{name} could not be started: {exc}", args_list=args) from exc
    try:
        stdout, stderr = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        # Reap it (no zombie) and collect whatever it said before it hung.
        _, stderr = proc.communicate()
        raise ToolTimeout(f"{name} timed out after {timeout:g} s", args_list=args,
                          returncode=proc.returncode, stderr=_tail(stderr)) from None
    except BaseException:
        # KeyboardInterrupt and the like: never leave the child running behind us.
        proc.kill()
        proc.wait()
        raise
    if proc.returncode not in ok_returncodes:
        tail = _tail(stderr)
        # A negative status is a signal from outside, e.g. the kernel's out-of-memory killer.
        how = (f"was killed by {_signal_name(-proc.returncode)}" if proc.returncode < 0
               else f"exited {proc.returncode}")
        raise ToolError(f"{name} {how}: {_gist(tail)}", args_list=args, returncode=proc.returncode, stderr=tail)
    return stdout
