"""The Playground's optimizers as specs: the editor hands specs to the config, text is
written only for the URL (and the page's snippet), and the exports carry the config's own
fields."""

from __future__ import annotations

import pytest
from test_playground import _apptest

from vradam.app import playground
from vradam.app.playground import PlaygroundConfig


@pytest.mark.slow  # an AppTest, ~3 s
def test_a_beta3_change_turns_no_text_into_an_optimizer(monkeypatch):
    """The optimizer editor returns specs and the config keeps them: a β3 change parses no
    optimizer text, and writes each optimizer's text twice: its link form, and the "Copy
    as Python" snippet the page shows (the downloads write theirs when clicked)."""
    from vradam.app.ui.sliders import fmt_value
    from vradam.sim.optimizers import OptimizerSpec

    at = _apptest()
    config = at.session_state["pg_config"]
    index = next(i for i, s in enumerate(config.specs()) if s.key == "vradam")
    slider = at.select_slider(key=f"pg_o{at.session_state['pg_opts'][index]['uid']}_beta3")
    new = 2 * float(slider.value)  # an option: β3's slider holds 1-1.5-2-3-5-7 steps
    assert fmt_value(new) in slider.options
    calls = {"parse": 0, "str": 0}
    parse, text = OptimizerSpec.parse.__func__, OptimizerSpec.__str__

    def counted_parse(cls, s):
        calls["parse"] += 1
        return parse(cls, s)

    def counted_str(self):
        calls["str"] += 1
        return text(self)

    monkeypatch.setattr(OptimizerSpec, "parse", classmethod(counted_parse))
    monkeypatch.setattr(OptimizerSpec, "__str__", counted_str)
    slider.set_value(new).run()
    assert not at.exception
    changed = at.session_state["pg_config"]
    assert changed.specs()[index].hyperparams["beta3"] == pytest.approx(new)
    assert calls == {"parse": 0, "str": 2 * len(changed.optimizers)}, calls


def test_exports_carry_the_config_fields_and_rebuild_it():
    """The downloads' metadata holds the config's own fields (not its parsed specs), and
    they rebuild the same config."""
    from dataclasses import fields

    config = PlaygroundConfig(landscape="himmelblau", optimizers=("adam:lr=0.05@a",), seed=3)
    data = playground.export_meta(config)["playground"]
    assert list(data) == [f.name for f in fields(config) if f.init]
    data["landscape_params"] = tuple(data["landscape_params"].items())
    assert PlaygroundConfig(**data) == config
