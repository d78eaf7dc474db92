"""The Lessons page: nine guided lessons, each on one screen, each opening a preset."""

from __future__ import annotations

import streamlit as st

from vradam.app.lessons import HOLDS_AT, LESSONS, PAGES, Claim
from vradam.app.ui.charts import trusted
from vradam.app.ui.url_state import UrlField, url_state, write_url

KEYS = tuple(LESSONS)
FIELDS = [UrlField("lesson", KEYS[0], KEYS)]


@st.cache_data(max_entries=64, show_spinner=False)
def _explore(key: str, value: float):
    return LESSONS[key].explore(value)


@st.cache_data(max_entries=16, show_spinner=False)
def _check(key: str) -> Claim:
    return LESSONS[key].check()


def _title(key: str) -> str:
    return f"{KEYS.index(key) + 1}. {LESSONS[key].title}"


def _go(offset: int) -> None:
    i = KEYS.index(st.session_state["lesson"])
    st.session_state["lesson"] = KEYS[(i + offset) % len(KEYS)]


def lesson_screen(key: str) -> None:
    lesson = LESSONS[key]
    path, page_title = PAGES[lesson.page]
    with st.container(border=True):
        st.markdown(f"**Question.** {lesson.question}")
        st.page_link(path, label=f"Open the preset in the {page_title} page",
                     icon=":material/open_in_new:", query_params=lesson.query)  # fmt: skip
    left, right = st.columns([2, 3], gap="medium")
    with left:
        st.markdown(f"**What to look for.** {lesson.look_for}")
        st.markdown(f"**Try this.** {lesson.try_this}")
        ex = lesson.exercise
        state = f"lesson_{key}_value"
        if state not in st.session_state:
            st.session_state[state] = ex.default
        value = st.select_slider(ex.label, ex.options, key=state, persist_state="session")
        with st.spinner("Running…"):
            fig, result = _explore(key, float(value))
        st.info(result, icon=":material/science:")
    with right:
        st.plotly_chart(trusted(fig), key=f"lesson_fig_{key}")
    with st.expander("Answer"):
        st.markdown(lesson.answer)
        with st.spinner("Measuring the claim around the preset…"):
            claim = _check(key)
        claim_box(claim)


def claim_box(claim: Claim) -> None:
    """The measured claim, how often it held around the preset, and whether it holds in the
    run the preset opens."""
    mark = "✔" if claim.holds else "✘ (too rare to teach: please report)"
    st.markdown(f"**Measured {mark}** {claim.text}")
    if claim.detail:
        st.markdown(claim.detail)
    st.progress(
        claim.frequency, text=f"held in {claim.frequency:.0%} of the runs around the preset"
    )
    preset = "holds" if claim.preset else "does not hold"
    st.caption(
        f"In the run the preset opens the claim {preset}. A lesson states only what holds in "
        f"at least {HOLDS_AT:.0%} of the runs around its preset."
    )


def show() -> None:
    for warning in url_state(FIELDS):
        st.warning(warning)
    st.subheader("Lessons")
    st.caption(
        "Nine short lessons on how optimizers move: a question, a preset that opens the right "
        "page, an exercise and the answer. The address holds the lesson: share it."
    )
    top = st.columns([3, 1, 1], vertical_alignment="bottom")  # buttons fit at 1024 px
    top[0].selectbox("Lesson", KEYS, key="lesson", persist_state="session", format_func=_title)
    top[1].button("← Previous", on_click=_go, args=(-1,), width="stretch")
    top[2].button("Next →", on_click=_go, args=(1,), width="stretch")
    write_url(FIELDS)
    lesson_screen(st.session_state["lesson"])
