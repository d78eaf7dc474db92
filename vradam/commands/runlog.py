"""The resumable studies' output on the command line: each finished run appended to the CSV
at once, and one progress line on stderr (``robustness`` and ``frontier``)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = ["RunLog", "progress_line"]


def progress_line(done: int, total: int, what: str, seconds: float, width: int = 30) -> None:
    """``[████····] done/total runs 12 s  what``, rewritten in place on stderr."""
    filled = int(width * done / total) if total else width
    bar = "█" * filled + "·" * (width - filled)
    print(f"\r[{bar}] {done}/{total} runs {seconds:.0f} s  {what}"[:120].ljust(120), end="",
          file=sys.stderr, flush=True)  # fmt: skip


class RunLog:
    """Appends the rows of ``todo`` runs to ``out`` as ``rows_csv(rows, header=False)`` text,
    flushing after each (a killed run keeps every finished row), and draws the progress."""

    def __init__(self, out: Path, rows_csv: Callable[..., str], todo: int) -> None:
        self.out, self.rows_csv, self.todo = out, rows_csv, todo
        self.new: list[dict] = []
        self.what = ""
        self.began = time.perf_counter()

    def say(self, what: str) -> None:
        """Show ``what`` the current run is doing."""
        self.what = what
        progress_line(len(self.new), self.todo, what, time.perf_counter() - self.began)

    def write(self, runs: Iterable[dict],
              describe: Callable[[dict], str] | None = None) -> list[dict] | None:  # fmt: skip
        """Append every row of ``runs``; the new rows, or None after Ctrl+C (said in one
        line: the same command resumes)."""
        try:
            with open(self.out, "a", newline="") as fh:
                self.say("")
                for row in runs:
                    self.new.append(row)
                    fh.write(self.rows_csv([row], header=False))
                    fh.flush()
                    self.say(describe(row) if describe else self.what)
        except KeyboardInterrupt:
            print(f"\ninterrupted: {len(self.new)} new run(s) saved in {self.out}; the same "
                  "command resumes", file=sys.stderr)  # fmt: skip
            return None
        print(file=sys.stderr)
        return self.new
