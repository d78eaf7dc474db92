"""A browser-free Streamlit client: the app's own websocket messages, no rendering.

Each :class:`Session` opens ``/_stcore/stream`` as the browser does, asks for a run of a page
(``rerun_script`` with the page's query string), reads the server's ``ForwardMsg`` stream
until ``script_finished``, and can then move a slider by its label (a ``rerun_script`` with
that widget's new value). It counts the bytes the server sent and every exception element.

Browsers dominate a load test run on the same 2 cores as the server (each Chromium renders
the Plotly figures); this client measures the server alone: what a class of 30 phones costs
the machine that serves them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

FINISHED_ANY = {  # a whole run, or a fragment's
    ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY,
    ForwardMsg.ScriptFinishedStatus.FINISHED_WITH_COMPILE_ERROR,
    ForwardMsg.ScriptFinishedStatus.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
}

MAX_CACHED_AGE = 2  # runs (Streamlit's global.maxCachedMessageAge)


@dataclass
class Run:
    """One script run as the client saw it."""

    seconds: float
    received: int  # bytes of ForwardMsgs
    exceptions: list[str] = field(default_factory=list)


class Session:
    """One visitor: a websocket, the widgets the last run drew, and its runs."""

    def __init__(self, url: str):
        self.url = url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.ws = None
        self.widgets: dict[str, object] = {}  # label → widget proto (sliders)
        self.fragment: dict[str, str] = {}  # label → the fragment that drew it ("": none)
        self.page_hash = ""
        self.query = ""  # the address's query string, as the page last wrote it
        # As a browser does: the hashes of the large messages it holds (hash → the run that
        # last brought it), sent with each rerun, so that an unchanged figure comes back as
        # a reference; one unused for MAX_CACHED_AGE runs is dropped.
        self.cached: dict[str, int] = {}
        self.runs = 0

    async def __aenter__(self) -> Session:
        self.ws = await websockets.connect(
            self.url, subprotocols=["streamlit"], max_size=2**28, open_timeout=None,
            ping_interval=None,
        )  # fmt: skip
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()

    async def open(self, query: str = "", page: str = "") -> Run:
        """The first run of a page (``page``: its URL path without the slash)."""
        msg = BackMsg()
        self.query = query
        msg.rerun_script.query_string = query
        msg.rerun_script.page_name = page
        return await self._run(msg)

    async def set_slider(self, label: str, value: float) -> Run:
        """Move the slider labelled ``label`` to ``value`` (a rerun with its new state, and
        the address the page wrote last, as a browser sends them). A select slider (one
        with ``options``) takes the index of an option and sends that option's text."""
        slider = self.widgets[label]
        msg = BackMsg()
        msg.rerun_script.query_string = self.query
        msg.rerun_script.page_script_hash = self.page_hash
        msg.rerun_script.fragment_id = self.fragment.get(label, "")  # as the browser does
        state = WidgetState(id=slider.id)
        if slider.options:
            state.string_array_value.data.append(slider.options[int(value)])
        else:
            state.double_array_value.data.append(float(value))
        msg.rerun_script.widget_states.widgets.append(state)
        return await self._run(msg)

    async def _run(self, msg: BackMsg) -> Run:
        self.runs += 1
        self.cached = {h: r for h, r in self.cached.items() if self.runs - r <= MAX_CACHED_AGE}
        msg.rerun_script.cached_message_hashes.extend(self.cached)
        start = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        received, exceptions = 0, []
        while True:
            data = await self.ws.recv()
            received += len(data)
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            kind = fwd.WhichOneof("type")
            if kind == "ref_hash" or fwd.metadata.cacheable:
                self.cached[fwd.ref_hash or fwd.hash] = self.runs
            if kind == "new_session":
                self.page_hash = fwd.new_session.page_script_hash
            elif kind == "navigation" and fwd.navigation.page_script_hash:
                self.page_hash = fwd.navigation.page_script_hash  # st.navigation's page
            elif kind == "page_info_changed":
                self.query = fwd.page_info_changed.query_string
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                element = fwd.delta.new_element
                which = element.WhichOneof("type")
                if which == "exception":
                    exceptions.append(f"{element.exception.type}: {element.exception.message}")
                elif which == "slider":
                    self.widgets[element.slider.label] = element.slider
                    self.fragment[element.slider.label] = fwd.delta.fragment_id
            elif kind == "script_finished" and fwd.script_finished in FINISHED_ANY:
                return Run(time.perf_counter() - start, received, exceptions)
