// Charts for keyboards and screen readers (issue 25, item 9), run once per browser tab.
//
// Plotly draws its Play/Pause buttons and the animation's step slider as SVG that neither a
// keyboard nor a screen reader can reach, and a chart has no accessible name. Whenever the
// page changes, this script
//  * names each chart (role "figure", aria-label from its title, else "Chart") and ties it
//    to the "Summary: …" caption under it (aria-describedby);
//  * makes each Play/Pause button a focusable button (Enter or Space presses it);
//  * makes each step slider a focusable slider: arrows move one step, Page Up/Down ten,
//    Home/End to the ends; it reports its value to screen readers.
(() => {
  if (window.__vradamA11y) return;
  window.__vradamA11y = true;
  let serial = 0;

  const press = (el) => {
    for (const type of ["mousedown", "mouseup", "click"]) {
      el.dispatchEvent(new MouseEvent(type, { bubbles: true, cancelable: true, view: window }));
    }
  };

  // A click on the slider's rail at step k (Plotly snaps to the nearest step; its steps sit
  // INSET px inside the rail's ends).
  const INSET = 10;
  const moveTo = (gd, slider, k) => {
    const opts = gd._fullLayout && gd._fullLayout.sliders && gd._fullLayout.sliders[0];
    const rail = slider.querySelector(".slider-rail-touch-rect");
    if (!opts || !rail) return;
    const n = opts.steps.length;
    const target = Math.max(0, Math.min(n - 1, k));
    const box = rail.getBoundingClientRect();
    const x = box.left + INSET + (n > 1 ? ((box.width - 2 * INSET) * target) / (n - 1) : 0);
    const init = { bubbles: true, cancelable: true, view: window, clientX: x,
                   clientY: box.top + box.height / 2, button: 0 };
    rail.dispatchEvent(new MouseEvent("mousedown", init));
    rail.dispatchEvent(new MouseEvent("mouseup", init));
  };

  // Its title, else what its legend lists ("Chart: Adam, VRAdam, …").
  const label = (gd) => {
    const t = gd.layout && gd.layout.title;
    let text = typeof t === "string" ? t : t && t.text;
    if (!text) {
      const names = [...new Set((gd._fullData || [])
        .filter((d) => d.showlegend !== false && d.name).map((d) => d.name))].slice(0, 8);
      text = names.length ? `Chart: ${names.join(", ")}` : "Chart";
    }
    return text.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
  };

  const summaryOf = (gd) => {
    const box = gd.closest('[data-testid="stElementContainer"]');
    for (let next = box && box.nextElementSibling, i = 0; next && i < 3; next = next.nextElementSibling, i++) {
      const caption = next.querySelector('[data-testid="stCaptionContainer"]');
      if (caption && caption.innerText.trim().startsWith("Summary:")) return caption;
    }
    return null;
  };

  const update = () => {
    for (const gd of document.querySelectorAll(".js-plotly-plot")) {
      gd.setAttribute("role", "figure");
      gd.setAttribute("aria-label", label(gd));
      const caption = summaryOf(gd);
      if (caption) {
        if (!caption.id) caption.id = `vradam-summary-${++serial}`;
        gd.setAttribute("aria-describedby", caption.id);
      }
      for (const button of gd.querySelectorAll("g.updatemenu-button")) {
        if (button.__vradamKeys) continue;
        button.__vradamKeys = true;
        button.setAttribute("tabindex", "0");
        button.setAttribute("role", "button");
        button.setAttribute("aria-label", (button.textContent || "").replace(/[^\w ]/g, "").trim());
        button.addEventListener("keydown", (e) => {
          if (e.key === "Enter" || e.key === " ") {
            e.preventDefault();
            press(button);
          }
        });
      }
      const slider = gd.querySelector("g.slider-container");
      const opts = gd._fullLayout && gd._fullLayout.sliders && gd._fullLayout.sliders[0];
      if (slider && opts) {
        slider.setAttribute("tabindex", "0");
        slider.setAttribute("role", "slider");
        slider.setAttribute("aria-label", "animation step");
        slider.setAttribute("aria-valuemin", "0");
        slider.setAttribute("aria-valuemax", String(opts.steps.length - 1));
        slider.setAttribute("aria-valuenow", String(opts.active || 0));
        const step = opts.steps[opts.active || 0];
        if (step) slider.setAttribute("aria-valuetext", `step ${step.label}`);
        if (!slider.__vradamKeys) {
          slider.__vradamKeys = true;
          slider.addEventListener("keydown", (e) => {
            const now = (gd._fullLayout.sliders[0] || {}).active || 0;
            const last = gd._fullLayout.sliders[0].steps.length - 1;
            const to = { ArrowRight: now + 1, ArrowUp: now + 1, ArrowLeft: now - 1,
                         ArrowDown: now - 1, PageUp: now + 10, PageDown: now - 10,
                         Home: 0, End: last }[e.key];
            if (to === undefined) return;
            e.preventDefault();
            moveTo(gd, slider, to);
          });
        }
      }
    }
  };

  let pending = null;
  new MutationObserver(() => {
    if (pending) return;
    pending = setTimeout(() => { pending = null; update(); }, 300);
  }).observe(document.body, { childList: true, subtree: true });
  update();
})();
