"""Walk every page of the app at 1280×800, 1024×768 (projector) and 390×844 (phone).

For each page in app.py's navigation (each lesson at 1280×800, four kinds of lesson at the
other sizes), in headless Chromium, with one server and one browser for the module: load
it, wait for the script and the charts (on a phone also for the rerun that stacks them),
open every tab and every expander that holds a chart, and check that

* there is no Streamlit exception box and no console error;
* the page does not scroll sideways, no formula is wider than its box, and on a phone every
  chart is (nearly) as wide as the column of content (charts stack, they are not squeezed);
* in every Plotly chart, no two texts overlap (the chart title, subplot titles and other
  annotations, axis titles, tick labels: tick labels of one axis among themselves too), the
  legend and the colour bars overlap no text and no colour bar, a colour bar overlaps no
  plot area, tick labels stay out of the other subplots' plot areas, and nothing is cut off
  at the chart's edge.

Overlaps are measured on the elements' own boxes in client coordinates (SVG getBBox
mapped through getScreenCTM, so rotated tick labels keep their true outline) and must be
deeper than TOLERANCE pixels; invisible and empty elements are skipped.

Cases that fail on pages another change is fixing are marked xfail(strict=False) in
KNOWN, with the page named in the reason. Screenshots (whole page, every tab) go to
tests/artifacts/walk/ for every screen with VRADAM_WALK_SHOTS=1 (to look at the pages), and
otherwise only for a screen where something was found.
"""

from __future__ import annotations

import ast
import os
import re

import pytest
from conftest import ARTIFACTS, ROOT, wait_for_app, wait_for_charts_at_rest

from vradam.app.lessons import LESSONS
from vradam.app.ui.screen import NARROW_PX as NARROW

pytestmark = pytest.mark.browser

VIEWPORTS = {"1280x800": (1280, 800), "1024x768": (1024, 768), "390x844": (390, 844)}
SHOTS = ARTIFACTS / "walk"
TOLERANCE = 1.5  # px: boxes may touch, and antialiasing blurs the last pixel
PHONE_CHART = 0.85  # on a phone a chart spans at least this share of the content column
PROBES = ("/_stcore/health", "/_stcore/host-config")
LOAD_MS = 400_000  # a cold page (the Edge of stability MLP, the stability maps) is slow
# A whole-page screenshot resizes the viewport twice (and Plotly relays out each chart):
# ~1-2 s a screen, so by default only where the walk found something.
SHOOT_ALL = os.environ.get("VRADAM_WALK_SHOTS") == "1"


def page_calls() -> list[tuple[str, str, str]]:
    """(file, title, URL path) of each page, read from app.py's st.Page(...) calls."""
    pages = []
    for node in ast.walk(ast.parse((ROOT / "app.py").read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Page":
            file = node.args[0].value
            kw = {k.arg: k.value.value for k in node.keywords if isinstance(k.value, ast.Constant)}
            default = kw.get("default", False)
            path = "" if default else kw.get("url_path", file.rpartition("/")[2][:-3])
            pages.append((file, kw["title"], path))
    return pages


def app_pages() -> dict[str, str]:
    """Page title → URL path."""
    return {title: path for _file, title, path in page_calls()}


def test_plain_page_links_use_the_navigation_urls():
    """A page run alone links to the others by URL; each URL is app.py's."""
    from vradam.app.ui.links import page_url

    for file, _title, path in page_calls():
        assert page_url(file) == f"./{path}", file
        assert page_url(file, {"a": "1 2"}) == f"./{path}?a=1+2"


PAGES = app_pages()
WALK = {title: path for title, path in PAGES.items() if path != "lessons"}
WALK.update({f"Lesson {key}": f"lessons?lesson={key}" for key in LESSONS})
# Every lesson at 1280×800; at the other sizes one of each kind of figure (a Playground race
# with the most legend entries, one with extra lines, the Edge of stability, the Physics).
LESSONS_EVERYWHERE = ("velocity_penalty", "noise", "edge_of_stability", "physics")

# (page title, viewport) → what still fails there (pages being changed elsewhere); the
# reason names the page and what overlaps.
KNOWN: dict[tuple[str, str], str] = {}


def _cases():
    for title in WALK:
        for size in VIEWPORTS:
            lesson = title.removeprefix("Lesson ")
            if lesson != title and size != "1280x800" and lesson not in LESSONS_EVERYWHERE:
                continue
            reason = KNOWN.get((title, size))
            marks = [pytest.mark.xfail(strict=False, reason=reason)] if reason else []
            yield pytest.param(title, size, marks=marks, id=f"{title}-{size}")


# --------------------------------------------------------------------------- in the page

# Every check below runs in the page; each returns a list of problems (strings).
JS_CHARTS = r"""
([TOL, PHONE]) => {
  const problems = [];
  const visible = (el, stop) => {
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden' || parseFloat(s.opacity) === 0)
        return false;
      if (e === stop) break;
    }
    return true;
  };
  // The element's own box (SVG user space) as 4 corners in client coordinates.
  const quad = (el) => {
    let b;
    try { b = el.getBBox(); } catch (e) { return null; }
    if (!b || b.width <= 0.5 || b.height <= 0.5) return null;
    const m = el.getScreenCTM();
    if (!m) return null;
    return [[b.x, b.y], [b.x + b.width, b.y], [b.x + b.width, b.y + b.height],
            [b.x, b.y + b.height]].map(([x, y]) => [m.a * x + m.c * y + m.e,
                                                    m.b * x + m.d * y + m.f]);
  };
  // Penetration depth of two convex polygons (separating axes); <= 0 when apart.
  const depth = (p, q) => {
    let best = Infinity;
    for (const poly of [p, q]) {
      for (let i = 0; i < poly.length; i++) {
        const [x1, y1] = poly[i], [x2, y2] = poly[(i + 1) % poly.length];
        let nx = y1 - y2, ny = x2 - x1;
        const len = Math.hypot(nx, ny);
        if (!len) continue;
        nx /= len; ny /= len;
        const a = p.map(([x, y]) => x * nx + y * ny), b = q.map(([x, y]) => x * nx + y * ny);
        best = Math.min(best, Math.min(Math.max(...a), Math.max(...b))
                              - Math.max(Math.min(...a), Math.min(...b)));
      }
    }
    return best;
  };
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  const column = main ? main.getBoundingClientRect().width
    - parseFloat(getComputedStyle(main).paddingLeft)
    - parseFloat(getComputedStyle(main).paddingRight) : window.innerWidth;
  const plots = [...document.querySelectorAll('.js-plotly-plot')].filter((p) => {
    const r = p.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && visible(p, null);
  });
  plots.forEach((plot, index) => {
    const keyed = plot.closest('[class*="st-key-"]');
    const key = keyed ? [...keyed.classList].find((c) => c.startsWith('st-key-')).slice(7) : '';
    const name = `chart ${index + 1}${key ? ' (' + key + ')' : ''}`;
    const svg = plot.querySelector('.main-svg');
    if (!svg) { problems.push(`${name}: not drawn`); return; }
    const frame = svg.getBoundingClientRect();
    if (PHONE && frame.width < PHONE * column)
      problems.push(`${name}: ${frame.width.toFixed(0)} px wide in a ` +
                    `${column.toFixed(0)} px column`);
    const texts = [], boxes = [], areas = [];
    const add = (list, el, kind, group) => {
      if (!visible(el, plot)) return;
      const text = (el.textContent || '').trim();
      if (el.tagName === 'text' && !text) return;
      const q = quad(el);
      if (q) list.push({kind, group, q, text: text.slice(0, 32)});
    };
    plot.querySelectorAll('.g-gtitle text').forEach((el) => add(texts, el, 'title'));
    plot.querySelectorAll('.annotation text.annotation-text')
      .forEach((el) => add(texts, el, 'annotation'));
    plot.querySelectorAll('.infolayer > g[class^="g-x"] > text')
      .forEach((el) => add(texts, el, 'axis title'));
    plot.querySelectorAll('.infolayer > g[class^="g-y"] > text')
      .forEach((el) => add(texts, el, 'axis title'));
    // tick labels: g.xtick, g.y2tick … (not the colour bars' own)
    plot.querySelectorAll('g[class$="tick"] > text').forEach((el) => {
      if (el.closest('.colorbar')) return;
      const axis = el.parentElement.getAttribute('class').replace(/tick$/, '');
      const sub = el.closest('.subplot');
      const id = sub ? [...sub.classList].find((c) => c !== 'subplot') : '';
      add(texts, el, `${axis} tick`, `${id}:${axis}`);
    });
    plot.querySelectorAll('.slider-container text, .updatemenu-container text')
      .forEach((el) => add(texts, el, 'slider'));
    plot.querySelectorAll('.legend > rect.bg').forEach((el) => add(boxes, el, 'legend'));
    plot.querySelectorAll('.colorbar').forEach((cb) => {
      const bg = cb.querySelector('rect.cbbg');
      if (bg) add(boxes, bg, 'colour bar');
    });
    plot.querySelectorAll('.draglayer > g > rect.nsewdrag').forEach((el) => {
      add(areas, el, 'plot area', el.parentElement.getAttribute('class'));
    });
    const start = problems.length;
    const label = (it) => `${it.kind}${it.text ? ' "' + it.text + '"' : ''}`;
    const report = (a, b, d) => problems.push(
      `${name}: ${label(a)} overlaps ${label(b)} by ${d.toFixed(1)} px`);
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        const d = depth(texts[i].q, texts[j].q);
        if (d > TOL) report(texts[i], texts[j], d);
      }
    }
    for (let i = 0; i < boxes.length; i++) {
      for (const t of texts) {
        const d = depth(boxes[i].q, t.q);
        if (d > TOL) report(boxes[i], t, d);
      }
      for (let j = i + 1; j < boxes.length; j++) {
        const d = depth(boxes[i].q, boxes[j].q);
        if (d > TOL) report(boxes[i], boxes[j], d);
      }
      if (boxes[i].kind === 'colour bar') {
        for (const a of areas) {
          const d = depth(boxes[i].q, a.q);
          if (d > TOL) report(boxes[i], {kind: `plot area ${a.group}`, text: ''}, d);
        }
      }
    }
    for (const t of texts) {
      if (!t.kind.endsWith('tick')) continue;
      const own = t.group.split(':')[0];
      for (const a of areas) {
        if (a.group === own) continue;
        const d = depth(t.q, a.q);
        if (d > TOL) report(t, {kind: `plot area ${a.group}`, text: ''}, d);
      }
    }
    for (const it of [...texts, ...boxes]) {
      const out = Math.max(...it.q.map(([x, y]) => Math.max(frame.left - x, x - frame.right,
                                                             frame.top - y, y - frame.bottom)));
      if (out > TOL) problems.push(`${name}: ${label(it)} is cut off (${out.toFixed(1)} px out)`);
    }
    const more = problems.length - start - 12;
    if (more > 0) problems.splice(start + 12, more, `${name}: … and ${more} more`);
  });
  return problems;
}
"""

JS_PAGE = r"""
() => {
  const problems = [];
  const doc = document.documentElement;
  const over = doc.scrollWidth - doc.clientWidth;
  if (over > 0) problems.push(`the page scrolls sideways by ${over} px`);
  // A formula's glyphs must lie inside the box that clips it (or the window).
  document.querySelectorAll('.katex-display').forEach((el) => {
    let clip = el;
    while (clip && clip !== document.body && getComputedStyle(clip).overflowX === 'visible')
      clip = clip.parentElement;
    const box = clip && clip !== document.body ? clip.getBoundingClientRect()
      : {left: 0, right: window.innerWidth};
    let lo = Infinity, hi = -Infinity;
    el.querySelectorAll('.katex-html span, .katex-html svg').forEach((s) => {
      // glyphs: leaf spans with visible text (not KaTeX's zero-width struts), and drawn
      // parts (root signs, braces)
      const text = s.textContent.replace(/\u200b/g, '').trim();
      if (!(s instanceof SVGElement) && (s.children.length || !text)) return;
      const r = s.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) return;
      lo = Math.min(lo, r.left); hi = Math.max(hi, r.right);
    });
    if (lo === Infinity) return;
    const out = Math.max(box.left - lo, hi - Math.min(box.right, window.innerWidth));
    if (out > 1)
      problems.push(`a formula is cut off by ${out.toFixed(0)} px ` +
                    `(${el.textContent.trim().slice(0, 24)}…)`);
  });
  return problems;
}
"""

JS_CHARTS_DRAWN = """() => [...document.querySelectorAll('.js-plotly-plot')]
    .every((p) => p.querySelector('.main-svg'))"""


# --------------------------------------------------------------------------- the walk


def _settle(page) -> None:
    wait_for_app(page, timeout_ms=LOAD_MS)
    page.wait_for_function(JS_CHARTS_DRAWN)
    page.wait_for_timeout(600)  # Plotly's relayout after the container's width settles …
    wait_for_charts_at_rest(page)  # … which may take longer on a loaded machine


def _load(page, url: str) -> None:
    """Open ``url`` and wait for its charts, and on a phone for the rerun its first visit
    makes (the page learns the screen is narrow and stacks its panels: app.ui.screen)."""
    page.goto(url, wait_until="domcontentloaded")
    _settle(page)
    if page.viewport_size["width"] <= NARROW:
        # a page with the screen probe has rerun narrow (app.ui.screen marks <html>); the
        # others never wait. A fixed pause raced the rerun on a loaded machine.
        page.wait_for_function(
            "() => (document.documentElement.dataset.vradamNarrow ?? 'true') === 'true'",
            timeout=LOAD_MS,
        )
        _settle(page)


def _inspect(page, where: str, phone: bool) -> list[str]:
    found = [f"{where}: {p}" for p in page.evaluate(JS_PAGE)]
    found += [f"{where}: {p}" for p in page.evaluate(JS_CHARTS, [TOLERANCE, PHONE_CHART * phone])]
    if page.locator('[data-testid="stException"]').count():
        found.append(f"{where}: an exception box")
    return found


def _open_chart_expanders(page) -> None:
    expanders = page.locator('[data-testid="stExpander"]')
    opened = False
    for i in range(expanders.count()):
        exp = expanders.nth(i)
        if exp.locator('[data-testid="stPlotlyChart"]').count() and exp.is_visible():
            exp.locator("summary").first.click()
            opened = True
    if opened:
        _settle(page)


def _console(msg, errors: list[str]) -> None:
    url = msg.location.get("url", "")
    # On a deep link (/physics) Streamlit's frontend first looks for its server under the
    # page's path, then at the root: those two 404s are its probe, not an error of the app.
    if msg.type != "error" or url.endswith(PROBES):
        return
    errors.append(f"console error: {msg.text[:160]} ({url})")


def _screenshot(page, path) -> None:
    """The whole page: Streamlit scrolls its main section, not the document, so the
    viewport is stretched to the content's height for the picture, then restored."""
    size = page.viewport_size
    tall = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], tall)})
    page.wait_for_timeout(400)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    page.wait_for_timeout(400)


def walk(browser, url: str, size: str, shot: str) -> list[str]:
    """Every problem on the page at ``url``, its tabs and chart expanders included."""
    width, height = VIEWPORTS[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on("console", lambda msg: _console(msg, errors))
    phone = width <= NARROW
    try:
        _load(page, url)
        _open_chart_expanders(page)
        found = _inspect(page, "first screen", phone)
        if SHOOT_ALL or found or errors:
            _screenshot(page, SHOTS / f"{shot}.png")
        tabs = page.locator('[data-testid="stTabs"] [role="tab"]')
        for i in range(1, tabs.count()):
            tab = tabs.nth(i)
            name = tab.inner_text().strip()
            tab.click()
            _settle(page)
            _open_chart_expanders(page)
            here = _inspect(page, f"tab {name}", phone)
            found += here
            if SHOOT_ALL or here:
                _screenshot(page, SHOTS / f"{shot}-tab{i}.png")
    finally:
        context.close()
    return found + errors


@pytest.fixture(scope="module")
def shots(browser, app_server):
    """The screenshot folder, once the app has run its main page: until then a deep link
    (/physics) is not routed through app.py's navigation and Streamlit says so in a box."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context()
    try:
        _load(context.new_page(), app_server)
    finally:
        context.close()
    return SHOTS


def test_the_walk_covers_the_navigation():
    """Every page of app.py is walked (a page added there is walked without editing this)."""
    assert {"Playground", "Lessons", "Physics", "Stability maps", "Evidence",
            "About VRAdam"} <= set(PAGES)  # fmt: skip
    assert PAGES["Playground"] == "" and PAGES["Stability maps"] == "stability_maps"
    assert PAGES["Evidence"] == "evidence"
    assert set(WALK) >= {t for t in PAGES if t != "Lessons"}
    assert len([t for t in WALK if t.startswith("Lesson ")]) == len(LESSONS) >= 8
    assert set(LESSONS_EVERYWHERE) <= set(LESSONS)


@pytest.mark.parametrize(("title", "size"), list(_cases()))
def test_page_layout(browser, app_server, shots, title, size):
    shot = re.sub(r"\W+", "_", title.lower()) + "-" + size
    found = walk(browser, f"{app_server}/{WALK[title]}", size, shot)
    assert not found, f"{title} at {size}:\n" + "\n".join(found)
