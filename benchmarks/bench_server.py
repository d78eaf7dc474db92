"""What a Playground rerun costs the server: the bytes it sends and its CPU time.

    python benchmarks/bench_server.py [--quick] [--reps N]

The page runs in-process (streamlit.testing.v1.AppTest), and every message Streamlit
enqueues for the browser is captured where it leaves the script (ScriptRunContext.enqueue)
and counted at its protobuf size, the bytes that go over the websocket. Like the real
server, a message the browser already holds (Streamlit's message cache: element messages
of ≥ 10 kB seen earlier in the session) counts as the short reference Streamlit sends
instead of it.

* **Bytes per update**: the first visit, then one update of each kind.
* **Server CPU per rerun**: process CPU time (time.process_time, every thread: the
  script, torch's, and AppTest's own bookkeeping), median over ``--reps`` reruns. Each
  "slider change" sets a value not used before, so nothing comes from the cache: a new
  run, a new figure. The capacity line divides one core by it (one Streamlit process: the
  GIL runs one session's script at a time). A real server also spends
  ~0.02-0.03 s per rerun sending the messages (its event loop; benchmarks/load_check.py
  measures the server process); Streamlit's full garbage collection after each run, which
  AppTest skips, is off in .streamlit/config.toml (it cost ~0.2 s per rerun).
* **Chart spec** of each scenario and of the largest setup the widgets allow (8
  optimizers × 100 starts × 2000 steps), serialised as st.plotly_chart does, and the time
  from a new setup to that JSON (simulation, figure, serialisation).

Targets: ≤ 0.3 MB per default update, ≤ 3 MB for the largest setup, ≤ 0.1 s of
server CPU per rerun.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAYLOAD_TARGET = 300_000  # bytes per default update
LARGEST_TARGET = 3_000_000  # bytes of the largest setup's chart
CPU_TARGET = 0.100  # s of server CPU per rerun
LARGEST_OPTIMIZERS = (
    "adam:lr=0.3", "vradam:lr=0.3,beta3=0.005,weight_decay=0", "momentum:lr=0.002",
    "rmsprop:lr=0.01", "gd:lr=0.001", "nesterov:lr=0.001", "adagrad:lr=0.5", "lion:lr=0.01",
)  # fmt: skip


# --------------------------------------------------------------------------- capture


class Wire:
    """The messages of each rerun, counted as the server would send them."""

    def __init__(self) -> None:
        self.messages: list = []  # this rerun's ForwardMsgs
        self.held: set[str] = set()  # hashes of cacheable messages the browser has

    def take(self) -> tuple[int, int]:
        """(bytes sent, bytes of the Plotly charts among them) for the rerun just done."""
        from streamlit.runtime.forward_msg_cache import create_reference_msg

        total = charts = 0
        for msg in self.messages:
            cached = msg.metadata.cacheable and msg.hash in self.held
            size = create_reference_msg(msg).ByteSize() if cached else msg.ByteSize()
            total += size
            if not cached and msg.WhichOneof("type") == "delta":
                element = msg.delta.new_element if msg.delta.HasField("new_element") else None
                if element is not None and element.WhichOneof("type") == "plotly_chart":
                    charts += size
        self.held |= {m.hash for m in self.messages if m.metadata.cacheable}
        self.messages = []
        return total, charts


@contextmanager
def captured(wire: Wire):
    from streamlit.runtime.scriptrunner_utils import script_run_context as src

    original = src.ScriptRunContext.enqueue

    def enqueue(self, msg):
        original(self, msg)  # fills in the hash and the cacheable flag
        wire.messages.append(msg)

    src.ScriptRunContext.enqueue = enqueue
    try:
        yield wire
    finally:
        src.ScriptRunContext.enqueue = original


def apptest():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)


def timed(action) -> float:
    start = time.process_time()
    action()
    return time.process_time() - start


# --------------------------------------------------------------------------- the page


def _adam_lr(at):
    uid = at.session_state["pg_opts"][0]["uid"]
    return at.select_slider(key=f"pg_o{uid}_lr")


USED_LR = (0.2, 0.3)  # α₀ values bytes_per_update runs (cached for cpu_per_rerun)
USED_STEPS = (400, 500)


def _lr_values(at) -> list[float]:
    """α₀ values of the first optimizer's slider not run yet, nearest to 0.3 first."""
    values = [float(v) for v in _adam_lr(at).options]
    return sorted((v for v in values if v not in USED_LR), key=lambda v: abs(v - 0.3))


def bytes_per_update(at, wire: Wire) -> list[tuple[str, int, int, float]]:
    """(update, bytes sent, of which charts, CPU s) for each kind of update, in order."""
    rows = []

    def step(name, action):
        cpu = timed(action)
        assert not at.exception, [e.value for e in at.exception]
        sent, charts = wire.take()
        rows.append((name, sent, charts, cpu))

    step("first visit (default Playground, cold server)", at.run)
    step("rerun, nothing changed", at.run)
    step("slider change: α₀ of Adam 0.3 → 0.2", lambda: _adam_lr(at).set_value(0.2).run())
    step("back to a setup seen before (α₀ 0.3)", lambda: _adam_lr(at).set_value(0.3).run())
    step("slider change: steps 500 → 400", lambda: at.slider(key="pg_steps").set_value(400).run())
    step("panels: loss, η_t, ‖v‖² only",
         lambda: at.button_group(key="pg_panels")
         .set_value(["loss", "effective_lr", "velocity_sq_norm"]).run())  # fmt: skip
    step("3-D view", lambda: at.button_group(key="pg_view").set_value("3-D").run())
    step("scenario: Himmelblau's four basins",
         lambda: at.button_group(key="pg_scenario_pick").set_value("himmelblau").run())  # fmt: skip
    return rows


def cpu_per_rerun(reps: int) -> dict[str, list[float]]:
    """CPU of reruns of three kinds, ``reps`` each, in a fresh session (no cache shared
    with the byte count above)."""
    at = apptest().run()
    at.run()
    times: dict[str, list[float]] = {"same": [], "lr": [], "steps": []}
    for _ in range(reps):
        times["same"].append(timed(at.run))
    for lr in _lr_values(at)[:reps]:  # a value not run before each time: nothing is cached
        times["lr"].append(timed(lambda lr=lr: _adam_lr(at).set_value(lr).run()))
    steps = [n for n in range(490, 10, -10) if n not in USED_STEPS][:reps]
    for n in steps:
        times["steps"].append(timed(lambda n=n: at.slider(key="pg_steps").set_value(n).run()))
    assert not at.exception, [e.value for e in at.exception]
    return times


# --------------------------------------------------------------------------- chart specs


def chart_spec(config) -> tuple[int, float]:
    """(bytes of the race's JSON spec, seconds from the config to that JSON)."""
    import plotly.io as pio

    from vradam.app import playground
    from vradam.app.figures import playground as plots
    from vradam.app.figures.colors import assign_colors
    from vradam.app.figures.maps import background

    start = time.perf_counter()
    ls = config.landscape_obj()
    fig = plots.race_figure(ls, playground.run(config), assign_colors(config.specs()),
                            background(ls))  # fmt: skip
    text = pio.to_json(fig, validate=False)
    return len(text.encode()), time.perf_counter() - start


def largest_config():
    from vradam.app.playground import MAX_OPTIMIZERS, MAX_STARTS, MAX_STEPS, PlaygroundConfig

    return PlaygroundConfig(optimizers=LARGEST_OPTIMIZERS[:MAX_OPTIMIZERS], start_mode="cloud",
                            n_starts=MAX_STARTS, steps=MAX_STEPS)  # fmt: skip


# --------------------------------------------------------------------------- report


def _kb(n: int) -> str:
    return f"{n / 1000:.0f} kB" if n >= 1000 else f"{n} B"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats, no largest setup")
    parser.add_argument("--reps", type=int, default=None, help="reruns per CPU median")
    args = parser.parse_args(argv)
    reps = args.reps or (2 if args.quick else 9)

    from vradam.app.playground import PlaygroundConfig
    from vradam.app.scenarios import SCENARIOS

    wire = Wire()
    with captured(wire):
        rows = bytes_per_update(apptest(), wire)
        times = cpu_per_rerun(reps)

    print("Bytes per update, default Playground (what the websocket carries; held messages "
          "as references)")  # fmt: skip
    print()
    print("| update | bytes sent | of which the chart | server CPU (one run) |")
    print("|---|---|---|---|")
    for name, sent, charts, cpu in rows:
        print(f"| {name} | **{_kb(sent)}** | {_kb(charts)} | {cpu:.3f} s |")
    change = max(sent for name, sent, _, _ in rows if name.startswith("slider change"))
    print(
        f"\nDefault update (slider change): {change / 1e6:.3f} MB, "
        f"{change / PAYLOAD_TARGET:.2f}× the 0.3 MB target."
    )

    print()
    print(f"Server CPU per rerun (process CPU time, median of {reps})")
    print()
    print("| rerun | median | min | max | vs 0.1 s |")
    print("|---|---|---|---|---|")
    names = {"same": "nothing changed (a cached setup: widgets, table, chart resent as a "
                     "reference)",
             "lr": "slider change: α₀ of Adam (new run and figure)",
             "steps": "slider change: steps (new run and figure)"}  # fmt: skip
    medians = {}
    for key, values in times.items():
        medians[key] = m = statistics.median(values)
        print(f"| {names[key]} | **{m:.3f} s** | {min(values):.3f} s | {max(values):.3f} s "
              f"| {m / CPU_TARGET:.2f}× |")  # fmt: skip
    per_change = max(medians["lr"], medians["steps"])
    rate = 1 / per_change
    print(
        f"\nCapacity: one Streamlit process runs its sessions' scripts one at a time on one "
        f"core (the GIL), so {rate:.0f} uncached slider changes per second per process "
        f"({1 / medians['same']:.0f} cached reruns); with one change per student every 10 s, "
        f"about {10 * rate:.0f} students per process at full load, more where students share "
        "setups (scenarios, lessons: cached for everyone). A real server also spends "
        "~0.02-0.03 s per rerun sending (benchmarks/load_check.py measures the server "
        "process); a second process behind a proxy would use a 2-core server's other core."
    )

    print()
    print("| setup | chart spec | new setup → JSON | target |")
    print("|---|---|---|---|")
    setups = [("The default race", PlaygroundConfig())]
    if not args.quick:
        setups += [(sc.title, sc.config) for sc in SCENARIOS.values()]
        setups.append(("Largest allowed: 8 optimizers × 100 starts × 2000 steps",
                       largest_config()))  # fmt: skip
    for name, config in setups:
        size, seconds = chart_spec(config)
        target = LARGEST_TARGET if name.startswith("Largest") else PAYLOAD_TARGET
        print(f"| {name} | **{size / 1e6:.3f} MB** ({size / target:.2f}× target) "
              f"| {seconds:.2f} s | ≤ {target / 1e6:g} MB |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
