"""One intra-op thread for torch while tiny networks train.

The edge-of-stability MLP (5→32→32→1 on 192 examples) gains nothing from intra-op
threads, and on a busy 2-core machine their spin-waits made a 500-step run 5× slower
(20.7 s against 4.2 s, measured; 100 steps: 23 s of CPU against 2.7 s). torch's thread
count is process-wide, so the setting is shared: the first session to enter sets one
thread, the last to leave restores the previous count, and none waits for another.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["one_thread"]

_LOCK = threading.Lock()
_DEPTH = 0
_SAVED = 1


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the body with ``torch.set_num_threads(1)``; restore when the last user leaves."""
    global _DEPTH, _SAVED
    with _LOCK:
        if _DEPTH == 0:
            _SAVED = torch.get_num_threads()
            torch.set_num_threads(1)
        _DEPTH += 1
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH -= 1
            if _DEPTH == 0:
                torch.set_num_threads(_SAVED)
