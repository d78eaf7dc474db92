"""Is the browser window narrow (a phone)? Figures stack their panels there.

A Plotly figure cannot reflow its subplots to the width it gets, and Streamlit does not
tell the script how wide the window is. A tiny component asks the browser whether the
window is at most ``NARROW_PX`` wide (Streamlit's own breakpoint, where st.columns stack)
and reports it only when it differs from what the script assumed: a desktop costs no
extra rerun, a phone one, and turning a tablet reruns once per crossing. A report the
page loses is sent again until a run shows it heard (the probe's watchdog). Without a
browser (AppTest, a PNG export) the screen is wide.
"""

from __future__ import annotations

import functools

import streamlit as st

NARROW_PX = 640
KEY = "screen_probe"

_JS = """
export default function (component) {
    const { data, setStateValue, setTriggerValue } = component;
    const root = document.documentElement;
    const query = window.matchMedia(`(max-width: ${data.px}px)`);
    // What the last run assumed, for anyone waiting for the page to have reflowed (tests),
    // and for the watchdog below: the latest run's data, never a stale closure's.
    root.dataset.vradamNarrow = String(data.narrow);
    const heard = () => root.dataset.vradamNarrow === String(query.matches);
    const send = () => {
        // A test's stand-in for a report the page loses (see tests/test_playground_browser.py).
        if (window.vradamLoseReports > 0) { window.vradamLoseReports -= 1; return; }
        setStateValue("narrow", query.matches);
    };
    // A report sent while a busy page mounts can be lost before it reaches the script
    // (streamlit#16732 is one such race), and the window's width then never changes again
    // to send another: until a run shows it heard, report again, each time waiting twice
    // as long (3 s, 6 s, ... 24 s), with a trigger so that the report always reruns.
    const watch = (wait) => {
        clearTimeout(window.vradamProbeTimer);
        window.vradamProbeTimer = setTimeout(() => {
            if (heard()) return;
            send();
            setTriggerValue("ask", Date.now());
            watch(Math.min(2 * wait, 24000));
        }, wait);
    };
    const report = () => {
        if (heard()) return;
        send();
        watch(3000);
    };
    report();
    query.onchange = report;
    return () => { query.onchange = null; clearTimeout(window.vradamProbeTimer); };
}
"""
_CSS = ":host { display: none; }"


@functools.cache
def _probe():
    """The component, registered on first use (inside a script run)."""
    return st.components.v2.component("vradam_screen_probe", js=_JS, css=_CSS)


def _ignore() -> None:
    """The change itself is what matters: the rerun it causes redraws the figures."""


def narrow_screen() -> bool:
    """True when the window is at most NARROW_PX wide (call once per page run)."""
    try:  # what the last report said (the component's state); nothing yet: wide
        assumed = bool(st.session_state[KEY]["narrow"])
    except (KeyError, TypeError):
        assumed = False
    mount = _probe()
    result = mount(key=KEY, data={"narrow": assumed, "px": NARROW_PX}, default={"narrow": False},
                   on_narrow_change=_ignore, on_ask_change=_ignore, height=0)  # fmt: skip
    return bool(result.narrow)
