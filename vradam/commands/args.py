"""The command line's argument parsing helpers: help text and choices read on demand, so a
bad argument is answered before torch loads (the lists of tasks and optimizers need it)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose epilog may be a function, called only when the help is shown:
    the lists of tasks and optimizers load torch, which a bad argument must not wait for."""

    def format_help(self) -> str:
        if callable(self.epilog):
            self.epilog = self.epilog()
        return super().format_help()


class LazyChoices(Sequence):
    """``choices`` read from ``load`` on first use: a bad name loads the names (and torch), a
    bad option or number does not. Give the argument a ``metavar``, or the usage line of
    every error would list (and load) them."""

    def __init__(self, load: Callable[[], Sequence[str]]) -> None:
        self._load, self._names = load, None

    def _all(self) -> Sequence[str]:
        if self._names is None:
            self._names = list(self._load())
        return self._names

    def __getitem__(self, i):
        return self._all()[i]

    def __len__(self) -> int:
        return len(self._all())


def task_keys() -> list[str]:
    """The network tasks' keys (loads torch)."""
    from vradam.studies.networks import TASKS

    return list(TASKS)


def optimizer_keys() -> list[str]:
    """The optimizer registry's keys (loads torch)."""
    from vradam.sim.optimizers import REGISTRY

    return list(REGISTRY)
