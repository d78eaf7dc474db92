"""torch's generic optimizer checks, run on VRAdam and VRMomentum through OptimizerInfo entries.

torch's own ``test/test_optim.py`` is not in the wheel (and stays out of this repository), but
its database is: ``torch.testing._internal.common_optimizers`` holds an ``OptimizerInfo`` per
optimizer, with the inputs (``optim_inputs_func``) and the invalid inputs
(``optim_error_inputs_func``) torch's generic tests run. Here VRAdam gets an entry built on
AdamW's (its inputs with the gate on and off; its error inputs), VRMomentum one on the
options it shares with them, and this file runs the generic properties of torch's suite that
apply to an optimizer on the CPU: the errors, β3 = 0 equal to AdamW on every input and kernel,
state dicts that continue bit for bit, older state dicts without the newer flags, deepcopy of
every public attribute, no-op steps without gradients or with zero ones, and complex
parameters as their real views. Where VRAdam departs from AdamW on an input the entry says
why (``DEPARTURES``). Needs ``expecttest`` (a dev dependency), which torch's test module
imports.
"""

from __future__ import annotations

import copy
import inspect
import warnings

import pytest
import torch

from vradam import VRAdam, VRMomentum

co = pytest.importorskip(
    "torch.testing._internal.common_optimizers", reason="needs expecttest (pip install .[dev])"
)

ADAMW = next(info for info in co.optim_db if info.optim_cls is torch.optim.AdamW)

# Error inputs of AdamW on which VRAdam departs on purpose (tested where it is decided).
DEPARTURES = {
    # VRAdam steps a Tensor lr with the foreach kernel too (tests/test_optim.py,
    # test_tensor_lr_of_one_element_with_one_or_two_dims).
    "lr as Tensor doesn't work with foreach & not capturable": "accepted",
    # VRAdam reads 1-element CPU Tensor betas as Python numbers (options.as_number), so a
    # mix of a float and a Tensor, and Tensor betas with foreach, step as the numbers do.
    "betas must be either both floats or both Tensors": "accepted",
    r"betas\[0\] as a Tensor is not supported for capturable=False and foreach=True": "accepted",
}


def _vradam_inputs(device, dtype=None):
    """AdamW's inputs, with the gate off (β3 = 0) and on; amsgrad is refused by VRAdam (it keeps
    no max_exp_avg_sq; tests/test_optim.py)."""
    inputs = []
    for oi in ADAMW.optim_inputs_func(device, dtype):
        if oi.kwargs.get("amsgrad"):
            continue
        for beta3 in (0.0, 1.0):
            kwargs = {**oi.kwargs, "beta3": beta3}
            inputs.append(
                co.OptimizerInput(params=None, kwargs=kwargs, desc=f"{oi.desc}, β3={beta3}")
            )
    return inputs


def _vrmomentum_inputs(device, dtype=None):
    settings = [{}, dict(lr=0.05), dict(weight_decay=0.1), dict(weight_decay=0.1, maximize=True),
                dict(beta1=0.5), dict(beta3=0.0), dict(beta3=5.0, alpha1=2.0)]  # fmt: skip
    return [co.OptimizerInput(params=None, kwargs=kw, desc=str(kw)) for kw in settings]


def _error_inputs_accepted_by(cls):
    """AdamW's error inputs whose keywords ``cls`` takes (VRMomentum has no ``betas``)."""
    names = set(inspect.signature(cls).parameters)

    def inputs(device, dtype):
        return [
            ei
            for ei in ADAMW.optim_error_inputs_func(device, dtype)
            if set(ei.optimizer_error_input.kwargs) <= names
        ]

    return inputs


INFOS = [
    co.OptimizerInfo(
        VRAdam,
        optim_inputs_func=_vradam_inputs,
        optim_error_inputs_func=_error_inputs_accepted_by(VRAdam),
        supported_impls=("foreach", "fused"),
        supports_fused_on=("cpu", "cuda"),
        has_capturable_arg=True,
    ),
    co.OptimizerInfo(
        VRMomentum,
        optim_inputs_func=_vrmomentum_inputs,
        optim_error_inputs_func=_error_inputs_accepted_by(VRMomentum),
        supported_impls=("foreach",),
        has_capturable_arg=True,
    ),
]
IDS = [info.optim_cls.__name__ for info in INFOS]


def _impls(info):
    """The kernels to run each input with on the CPU: for-loop, foreach, and fused."""
    impls = [dict(foreach=False), dict(foreach=True)]
    if "fused" in info.supported_impls and "cpu" in info.supports_fused_on:
        impls.append(dict(fused=True))
    return impls


def _params(dtype=torch.float64, complex_=False):
    gen = torch.Generator().manual_seed(0)
    shapes = [(5, 4), (4,), (3, 2, 2), (70, 60)]  # the last takes the fused kernel's dots
    made = [torch.randn(s, generator=gen, dtype=dtype) for s in shapes]
    if complex_:
        made = [torch.complex(t, torch.randn(t.shape, generator=gen, dtype=dtype)) for t in made]
    return [torch.nn.Parameter(t) for t in made]


def _grads(params, step):
    gen = torch.Generator().manual_seed(100 + step)
    return [torch.randn(p.shape, generator=gen, dtype=p.dtype) for p in params]


def _run(opt, params, steps, start=0):
    for step in range(start, start + steps):
        for p, g in zip(params, _grads(params, step), strict=True):
            p.grad = g
        opt.step()


def _equal(a, b) -> bool:
    """Deep equality of state dicts, param groups and attributes (tensors bit for bit)."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and (
            (a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b))
            or bool(a.isnan().all() and b.isnan().all())
        )  # fmt: skip
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@pytest.mark.parametrize("info", INFOS, ids=IDS)
def test_errors(info):
    """torch's test_errors: every error input raises (or warns) as AdamW's does, except the
    departures listed with their reason, which construct and step."""
    seen = set()
    for ei in info.optim_error_inputs_func(device="cpu", dtype=torch.float32):
        oi = ei.optimizer_error_input
        assert ei.error_on == co.OptimizerErrorEnum.CONSTRUCTION_ERROR  # AdamW's are all so
        if ei.error_regex in DEPARTURES or oi.desc in DEPARTURES:
            params = [torch.nn.Parameter(torch.randn(3))]
            opt = info.optim_cls(params, **oi.kwargs)
            _run(opt, params, 2)
            assert torch.isfinite(params[0]).all()
        elif issubclass(ei.error_type, Warning):
            with pytest.warns(ei.error_type, match=ei.error_regex):
                info.optim_cls(oi.params, **oi.kwargs)
        else:
            with pytest.raises(ei.error_type, match=ei.error_regex):
                info.optim_cls(oi.params, **oi.kwargs)
        seen.add(ei.error_type)
    assert {TypeError, ValueError, UserWarning} <= seen  # the generic ones ran


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gate_off_is_adamw_on_every_input_and_kernel(dtype):
    """Each of AdamW's inputs with β3 = 0, on the for-loop, foreach and fused kernels: VRAdam's
    parameters and state are AdamW's bit for bit after 4 steps."""
    info, runs = INFOS[0], 0
    for oi in info.optim_inputs_func("cpu", dtype):
        if oi.kwargs["beta3"] != 0:
            continue
        adamw_kwargs = {k: v for k, v in oi.kwargs.items() if k != "beta3"}
        for impl in _impls(info):
            ours, theirs = _params(dtype), _params(dtype)
            opt = VRAdam(ours, **oi.kwargs, **impl)
            ref = torch.optim.AdamW(theirs, **adamw_kwargs, **impl)
            _run(opt, ours, 4)
            _run(ref, theirs, 4)
            for p, q in zip(ours, theirs, strict=True):
                assert torch.equal(p, q), (oi.desc, impl)
                assert all(torch.equal(opt.state[p][k], ref.state[q][k]) for k in ref.state[q])
            runs += 1
    assert runs == 4 * 3  # AdamW's inputs but amsgrad, three kernels


@pytest.mark.slow
@pytest.mark.parametrize("info", INFOS, ids=IDS)
def test_state_dict_continues_bit_for_bit(info):
    """torch's test_state_dict_deterministic: a state dict loaded into a fresh optimizer over
    copies of the parameters continues exactly as the original does (every input, kernel),
    bit for bit; the fused kernel with the gate on to rounding (its ‖v_t‖² starts from the
    last step's, which a state dict does not carry: the resumed run takes it afresh)."""
    runs = 0
    for oi in info.optim_inputs_func("cpu", torch.float64):
        for impl in _impls(info):
            params = _params()
            opt = info.optim_cls(params, **oi.kwargs, **impl)
            _run(opt, params, 3)
            twins = [torch.nn.Parameter(p.detach().clone()) for p in params]
            resumed = info.optim_cls(twins, **oi.kwargs, **impl)
            resumed.load_state_dict(copy.deepcopy(opt.state_dict()))
            _run(opt, params, 3, start=3)
            _run(resumed, twins, 3, start=3)
            exact = not (impl.get("fused") and oi.kwargs.get("beta3", 1.0) != 0)
            for p, q in zip(params, twins, strict=True):
                if exact:
                    assert torch.equal(p, q), (oi.desc, impl)
                else:
                    torch.testing.assert_close(p, q, rtol=0, atol=1e-15)
            runs += 1
    assert runs == len(_impls(info)) * len(info.optim_inputs_func("cpu", torch.float64))


@pytest.mark.parametrize("info", INFOS, ids=IDS)
def test_can_load_older_state_dict(info):
    """torch's test_can_load_older_state_dict: a state dict whose groups lack the flags older
    versions did not save (``not_og_supported_flags``) loads and steps as the defaults do."""
    for oi in info.optim_inputs_func("cpu", torch.float64):
        params = _params()
        opt = info.optim_cls(params, **oi.kwargs)
        _run(opt, params, 2)
        old = copy.deepcopy(opt.state_dict())
        for group in old["param_groups"]:
            for flag in info.not_og_supported_flags:
                group.pop(flag, None)
        twins = [torch.nn.Parameter(p.detach().clone()) for p in params]
        resumed = info.optim_cls(twins, **oi.kwargs)
        resumed.load_state_dict(old)
        _run(opt, params, 2, start=2)
        _run(resumed, twins, 2, start=2)
        assert all(torch.equal(p, q) for p, q in zip(params, twins, strict=True)), oi.desc


@pytest.mark.parametrize("info", INFOS, ids=IDS)
def test_deepcopy_copies_all_public_attrs(info):
    """torch's test_deepcopy_copies_all_public_attrs, mid-run of every input (also during a
    ``beta3="auto"`` calibration): every public attribute of the copy equals the original's."""
    inputs = [*info.optim_inputs_func("cpu", torch.float64),
              co.OptimizerInput(params=None, kwargs=dict(beta3="auto"), desc="auto")]  # fmt: skip
    for oi in inputs:
        params = _params()
        opt = info.optim_cls(params, **oi.kwargs)
        _run(opt, params, 3)
        twin = copy.deepcopy(opt)
        public = {k for k in opt.__dict__ if not k.startswith("_")}
        assert public == {k for k in twin.__dict__ if not k.startswith("_")}
        for key in public - {"state"}:  # the state is keyed by the parameters, copied too
            assert _equal(getattr(opt, key), getattr(twin, key)), (oi.desc, key)
        assert _equal(list(opt.state.values()), list(twin.state.values())), oi.desc


@pytest.mark.parametrize("info", INFOS, ids=IDS)
def test_step_is_noop_without_grads_and_for_zero_grads(info):
    """torch's test_step_is_noop_when_params_have_no_grad and _for_zero_grads: no gradient
    leaves parameters and state untouched; zero gradients leave the parameters where they
    are (inputs without weight decay, which moves them by design)."""
    for oi in info.optim_inputs_func("cpu", torch.float64):
        for impl in _impls(info):
            params = _params()
            before = [p.detach().clone() for p in params]
            opt = info.optim_cls(params, **oi.kwargs, **impl)
            opt.step()
            assert not opt.state and all(map(torch.equal, params, before)), (oi.desc, impl)
            if oi.kwargs.get("weight_decay", 0) != 0 or (
                info.optim_cls is VRAdam and "weight_decay" not in oi.kwargs
            ):  # VRAdam's default weight decay is AdamW's 1e-2
                continue
            for p in params:
                p.grad = torch.zeros_like(p)
            opt.step()
            assert all(map(torch.equal, params, before)), (oi.desc, impl)


@pytest.mark.slow
@pytest.mark.parametrize("info", INFOS, ids=IDS)
def test_complex_parameters_step_as_their_real_views(info):
    """torch's test_complex: a complex parameter steps as the real tensor of its (re, im)
    pairs would, the global norm included (for-loop and foreach kernels)."""
    for oi in info.optim_inputs_func("cpu", torch.float64):
        for impl in _impls(info)[:2]:
            complex_params = _params(complex_=True)
            real_params = [torch.nn.Parameter(torch.view_as_real(p.detach()).clone())
                           for p in complex_params]  # fmt: skip
            opt = info.optim_cls(complex_params, **oi.kwargs, **impl)
            ref = info.optim_cls(real_params, **oi.kwargs, **impl)
            for step in range(3):
                for p, q, g in zip(complex_params, real_params, _grads(complex_params, step),
                                   strict=True):  # fmt: skip
                    p.grad, q.grad = g, torch.view_as_real(g).clone()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    opt.step()
                    ref.step()
            for p, q in zip(complex_params, real_params, strict=True):
                torch.testing.assert_close(torch.view_as_real(p), q, rtol=0, atol=1e-14)
