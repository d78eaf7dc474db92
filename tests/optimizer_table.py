"""One row per optimizer record: the facts the tests check it against, written out by hand.

Every optimizer in ``vradam.sim.optimizers.REGISTRY`` has exactly one row (a test
checks), and the optimizer, engine, threshold and step-through tests are parametrised
over these rows, so a new optimizer is one record plus one row here.

A row holds what is known independently of the record: the torch.optim class it must
match and the torch keyword arguments of each engine case (so the record's own torch
twin is checked, not trusted), the names of its torch state, the spec values it must
refuse, the closed-form stability threshold of docs/theory.md §2, and for the two
optimizers this package ships, their constructor's bad inputs and functional form, the
algorithm they must equal bit for bit with the gate off (overflow included), the settings
of the torch.compile tests (tests/test_compile.py) and the state dicts of other
optimizers they load or refuse (with AdamW's row: VRAdam's state dict into AdamW).

``CLAIMS`` maps every claim of the README's optimizer section to the tests that check it
(tests/test_records.py checks that the map is complete and that every test exists).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from vradam import VRAdam, VRMomentum, functional
from vradam.sim.lion import Lion


@dataclass(frozen=True)
class Load:
    """A state dict of ``source`` (after 3 steps) loaded into the row's class.

    Options the saved groups lack take this class's constructor values (``kwargs``), the
    others the checkpoint's; ``continues_as_source``: the run then equals the source's own
    continuation bit for bit; ``error``: refused with this message fragment, nothing loaded.
    """

    source: type
    source_kwargs: dict
    kwargs: dict
    continues_as_source: bool = False
    error: str | None = None


class EMAMomentum(torch.optim.Optimizer):
    """VRMomentum with the gate off, written independently: v ← β1·v + (1−β1)·g,
    θ ← θ·(1 − lr·λ) − lr·v (its twin for β3 = 0)."""

    def __init__(self, params, lr=1e-2, beta1=0.9, weight_decay=0.0, foreach=None):
        super().__init__(params, dict(lr=lr, beta1=beta1, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                v = self.state[p].setdefault("exp_avg", torch.zeros_like(p))
                if group["weight_decay"] != 0:
                    p.mul_(1 - group["lr"] * group["weight_decay"])
                v.lerp_(p.grad, 1 - group["beta1"])
                p.add_(v, alpha=-group["lr"])


@dataclass(frozen=True)
class Row:
    key: str
    torch_class: type
    # engine cases: (flat hyperparameters, the same run as torch keyword arguments)
    cases: tuple[tuple[dict, dict], ...]
    # torch state name → the step-through (replay) array holding the same numbers
    state: dict
    # the closed-form threshold at update t and rate η (None: no threshold)
    threshold: Callable[[dict, int, float], float] | None
    # spec values the registry must refuse, with a fragment of the message
    bad_spec: tuple[tuple[dict, str], ...] = ()
    # constructor values the torch class must refuse (the package's own classes)
    bad_class: tuple[tuple[dict, str], ...] = ()
    # the public functional form: (params, grads, state lists, steps, hyperparameters)
    functional: Callable | None = None
    # the class with the gate off (β3 = 0) is this one bit for bit, overflow included:
    # (twin class, constructor settings valid for both)
    gate_off: tuple[type, tuple[dict, ...]] | None = None
    # constructor arguments of the torch.compile tests: the gate moves within 20 steps
    compile: dict | None = None
    # state dicts of other optimizers loaded into this class
    loads: tuple[Load, ...] = ()


def _bc1(hp, t):
    return 1 - hp["beta1"] ** t


def _adam(hp, t, eta):
    b1 = hp["beta1"]
    return 2 * (1 + b1) * _bc1(hp, t) / ((1 - b1) * eta)


def _nadam(hp, t, eta):
    """2(1+β1)/(η·[c_t(1+β1) − μ_t·β1(1−β1)]), c_t = μ_t(1−β1) + 1 − μ_t, exact with
    NAdam's bias corrections: weight of g (1−μ_t)/(1−Πμ), of the new v μ_{t+1}/(1−Πμ·μ_{t+1})."""
    b1, psi = hp["beta1"], hp["momentum_decay"]

    def mu(k):
        return b1 * (1 - 0.5 * 0.96 ** (k * psi))

    prod = math.prod(mu(k) for k in range(1, t + 1))
    cg = (1 - mu(t)) / (1 - prod)
    cv = mu(t + 1) / (1 - prod * mu(t + 1))
    return 2 * (1 + b1) / (eta * (cg * (1 + b1) + cv * (1 - b1)))


def _radam_rect(hp, t):
    b2 = hp["beta2"]
    rho_inf = 2 / (1 - b2) - 1
    rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
    if rho <= 5:
        return None
    return math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))


def _radam(hp, t, eta):
    """38·(1−β1^t)/(r_t·η) once rectified; before that momentum on the raw Hessian."""
    r = _radam_rect(hp, t)
    return _adam(hp, t, eta) / (1 if r is None else r)


def _vradam_functional(params, grads, state, steps, hp, foreach):
    return functional.vradam(
        params, grads, state["exp_avg"], state["exp_avg_sq"], steps,
        lr=hp["lr"], beta1=hp["beta1"], beta2=hp["beta2"], beta3=hp["beta3"],
        alpha1=hp["alpha1"], eps=hp["eps"], weight_decay=hp["weight_decay"], foreach=foreach,
    )  # fmt: skip


def _vrmomentum_functional(params, grads, state, steps, hp, foreach):
    return functional.vrmomentum(
        params, grads, state["exp_avg"], steps, lr=hp["lr"], beta1=hp["beta1"],
        beta3=hp["beta3"], alpha1=hp["alpha1"], weight_decay=hp["weight_decay"], foreach=foreach,
    )  # fmt: skip


_RANGE = "outside its valid range"
_ADAM_BAD = (
    (dict(beta1=1.0), _RANGE), (dict(beta2=-0.1), _RANGE), (dict(eps=-1.0), _RANGE),
    (dict(lr=-1.0), _RANGE), (dict(lr=float("nan")), _RANGE), (dict(momentum=0.9), "unknown"),
)  # fmt: skip

ROWS = [
    Row("gd", torch.optim.SGD,
        ((dict(lr=2e-3), dict(lr=2e-3)),
         (dict(lr=2e-3, weight_decay=0.1), dict(lr=2e-3, weight_decay=0.1))),
        {}, lambda hp, t, eta: 2 / eta,
        ((dict(lr=-1.0), _RANGE), (dict(beta1=0.9), "unknown hyperparameter"))),
    Row("momentum", torch.optim.SGD,
        ((dict(lr=1e-3), dict(lr=1e-3, momentum=0.9)),),
        {"momentum_buffer": "velocity"},
        lambda hp, t, eta: 2 * (1 + hp["momentum"]) / eta,
        ((dict(momentum=1.0), _RANGE), (dict(momentum=-0.5), _RANGE))),
    Row("nesterov", torch.optim.SGD,
        ((dict(lr=1e-3, momentum=0.8), dict(lr=1e-3, momentum=0.8, nesterov=True)),),
        {"momentum_buffer": "velocity"},
        lambda hp, t, eta: 2 * (1 + hp["momentum"]) / ((1 + 2 * hp["momentum"]) * eta),
        ((dict(momentum=1.5), _RANGE),)),
    Row("rmsprop", torch.optim.RMSprop,
        ((dict(lr=0.01), dict(lr=0.01)),
         (dict(lr=0.003, alpha=0.9, weight_decay=0.05),
          dict(lr=0.003, alpha=0.9, weight_decay=0.05))),
        {"square_avg": "second"}, lambda hp, t, eta: 2 / eta,
        ((dict(alpha=1.0), _RANGE), (dict(eps=-1.0), _RANGE))),
    Row("adagrad", torch.optim.Adagrad,
        ((dict(lr=0.1), dict(lr=0.1)),),
        {"sum": "second"}, lambda hp, t, eta: 2 / eta,
        ((dict(lr=float("inf") * -1), _RANGE),)),
    Row("adam", torch.optim.Adam,
        ((dict(lr=0.02), dict(lr=0.02)),
         (dict(lr=0.02, beta1=0.8, weight_decay=0.1),
          dict(lr=0.02, betas=(0.8, 0.999), weight_decay=0.1))),
        {"exp_avg": "velocity", "exp_avg_sq": "second"}, _adam, _ADAM_BAD),
    Row("adamw", torch.optim.AdamW,
        ((dict(lr=0.02), dict(lr=0.02)),),
        {"exp_avg": "velocity", "exp_avg_sq": "second"}, _adam, _ADAM_BAD,
        loads=(Load(VRAdam, dict(lr=5e-3, beta3=0.0, weight_decay=0.1), {},
                    continues_as_source=True),)),
    Row("nadam", torch.optim.NAdam,
        ((dict(lr=0.004), dict(lr=0.004)),),
        {"exp_avg": "velocity", "exp_avg_sq": "second"}, _nadam,
        (*_ADAM_BAD, (dict(momentum_decay=-1.0), _RANGE))),
    Row("radam", torch.optim.RAdam,
        ((dict(lr=0.004, beta2=0.9), dict(lr=0.004, betas=(0.9, 0.9))),
         (dict(lr=1e-3), dict(lr=1e-3))),
        {"exp_avg": "velocity", "exp_avg_sq": "second"}, _radam, _ADAM_BAD),
    Row("lion", Lion,
        ((dict(lr=0.01), dict(lr=0.01)),
         (dict(lr=0.003, beta1=0.8, weight_decay=0.1),
          dict(lr=0.003, betas=(0.8, 0.99), weight_decay=0.1))),
        {"exp_avg": "velocity"}, None,
        ((dict(beta2=1.0), _RANGE), (dict(eps=1e-8), "unknown hyperparameter"))),
    Row("vradam", VRAdam,
        ((dict(lr=0.02, beta3=0.05), dict(lr=0.02, beta3=0.05)),
         (dict(lr=0.05, beta3=0.5, alpha1=3, weight_decay=0),
          dict(lr=0.05, beta3=0.5, alpha1=3, weight_decay=0))),
        {"exp_avg": "velocity", "exp_avg_sq": "second"}, _adam,
        (*_ADAM_BAD, (dict(beta3=-1.0), _RANGE), (dict(alpha1=float("nan")), _RANGE)),
        bad_class=(
            (dict(lr=-1.0), "Invalid learning rate: -1.0"),
            (dict(lr=float("nan")), "Invalid learning rate: nan"),
            (dict(lr=torch.tensor([0.1, 0.2])), "Tensor lr must be 1-element"),
            (dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
            (dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
            (dict(betas=(-0.1, 0.999)), "Invalid beta parameter at index 0: -0.1"),
            (dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
            (dict(betas=(0.9,)), "Invalid betas"),
            (dict(beta3=-0.5), "Invalid beta3 value: -0.5"),
            (dict(beta3=float("nan")), "Invalid beta3 value: nan"),
            (dict(beta3="bogus"), "Invalid beta3 value: 'bogus'"),
            (dict(beta3=torch.tensor([1.0, 2.0])), "Tensor beta3 must be 1-element"),
            (dict(alpha1=-1.0), "Invalid alpha1 value: -1.0"),
            (dict(alpha1=-5.0), "Invalid alpha1 value: -5.0"),
            (dict(betas=(1.5, 0.9)), "Invalid beta parameter at index 0: 1.5"),
            (dict(weight_decay=-0.01), "Invalid weight_decay value: -0.01"),
            (dict(differentiable=True), "does not support differentiable=True"),
        ),
        functional=_vradam_functional,
        gate_off=(torch.optim.AdamW, (
            {}, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
            dict(lr=0.003, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.0))),
        compile=dict(lr=0.01, beta3=500.0),
        loads=(
            Load(torch.optim.AdamW, dict(lr=5e-3, weight_decay=0.1), dict(beta3=0.0, alpha1=2.0),
                 continues_as_source=True),
            Load(torch.optim.AdamW, dict(lr=5e-3), dict(beta3=0.3, alpha1=4.0)),
            Load(torch.optim.Adam, dict(lr=5e-3), dict(beta3=0.0), continues_as_source=True),
            Load(torch.optim.Adam, dict(amsgrad=True), {}, error="amsgrad"),
            Load(torch.optim.Adam, dict(weight_decay=1e-4), {}, error="L2"),
            Load(VRMomentum, {}, {}, error="not ['exp_avg_sq']"),
        )),
    Row("vrmomentum", VRMomentum,
        ((dict(lr=0.01, beta3=0.01), dict(lr=0.01, beta3=0.01)),),
        {"exp_avg": "velocity"},
        lambda hp, t, eta: 2 * (1 + hp["beta1"]) / ((1 - hp["beta1"]) * eta),
        ((dict(beta1=1.0), _RANGE), (dict(beta2=0.9), "unknown hyperparameter")),
        bad_class=(
            (dict(lr=-0.1), "Invalid learning rate: -0.1"),
            (dict(beta1=1.0), "Invalid beta1 value: 1.0"),
            (dict(beta1=-0.2), "Invalid beta1 value: -0.2"),
            (dict(beta3=-1.0), "Invalid beta3 value: -1.0"),
            (dict(alpha1=float("nan")), "Invalid alpha1 value: nan"),
            (dict(beta3="bogus"), "Invalid beta3 value: 'bogus'"),
            (dict(weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
            (dict(lr=torch.tensor([[0.1, 0.2]])), "Tensor lr must be 1-element"),
        ),
        functional=_vrmomentum_functional,
        gate_off=(EMAMomentum, ({}, dict(lr=0.05, beta1=0.7, weight_decay=0.1))),
        compile=dict(lr=0.05, beta3=20.0),
        loads=(
            # plain SGD has no state, and its "momentum" 0 is VRMomentum's beta1
            Load(torch.optim.SGD, dict(lr=0.01), dict(beta3=0.0), continues_as_source=True),
            Load(torch.optim.SGD, dict(lr=0.01, momentum=0.9), {}, error="momentum_buffer"),
        )),
]  # fmt: skip
ROW = {r.key: r for r in ROWS}
CASES = [(r.key, flat, r.torch_class, torch_kwargs) for r in ROWS for flat, torch_kwargs in r.cases]
BAD_CLASS = [(r.torch_class, kw, msg) for r in ROWS for kw, msg in r.bad_class]
GATE_OFF = [r for r in ROWS if r.gate_off]
COMPILE = [r for r in ROWS if r.compile]
LOADS = [(r, load) for r in ROWS for load in r.loads]


# ----------------------------------------------------------------------------- README claims


@dataclass(frozen=True)
class Claim:
    """One claim of the README's optimizer section ("Use VRAdam in your own training code"):
    ``quote`` is its text there (whitespace collapsed), ``tests`` the tests that check it
    ("file.py::test_function"; every one must exist)."""

    quote: str
    tests: tuple[str, ...]


_OPT = "test_optim.py::"
_REC = "test_records.py::"
_CMP = "test_compile.py::"
_DIST = "test_distributed.py::"
_CUDA = "test_cuda.py::"
_GEN = "test_torch_generic.py::"
CLAIMS = (
    Claim(
        "The optimizer needs only torch and numpy: `pip install .` from a checkout (the web "
        "app is the `app` extra: `pip install '.[app]'`).",
        (
            _OPT + "test_core_needs_only_torch_and_numpy",
            _OPT + "test_import_without_web_stack",
            "test_layers.py::test_core_sim_and_landscapes_import_without_the_web_and_science_stacks",
        ),
    ),
    Claim(
        "scheduler.step() # schedulers move lr (α0); the gate divides it",
        (
            "test_docs.py::test_readme_training_example_runs",
            _OPT + "test_schedulers_move_alpha0_and_the_gate_divides_it",
        ),
    ),
    Claim(
        'eta = optimizer.param_groups[0]["effective_lr"] # η_t, a 0-dim tensor',
        ("test_docs.py::test_readme_training_example_runs",),
    ),
    Claim(
        "Signature: `VRAdam(params, lr=1e-3, betas=(0.9, 0.999), beta3=1.0, alpha1=10.0, "
        "eps=1e-8, weight_decay=1e-2, *, maximize=False, foreach=None, capturable=False, "
        "differentiable=False, fused=None, process_group=None)`.",
        (_OPT + "test_signatures_are_the_documented_ones",),
    ),
    Claim(
        "`lr` is α0, the largest learning rate; η_t stays in `[lr/(1+alpha1), lr]`.",
        (_OPT + "test_gate_bounds_and_halving", _OPT + "test_a_too_large_beta3_sits_at_the_floor"),
    ),
    Claim(
        "`VRAdam(params, beta3=0)` is `torch.optim.AdamW(params)`, bit for bit (tested), a "
        "Tensor `lr` included.",
        (
            _OPT + "test_gate_off_is_its_twin_bit_for_bit",
            _OPT + "test_tensor_lr_with_beta3_zero_is_adamw_bit_for_bit",
        ),
    ),
    Claim(
        "A Tensor `lr` may have its one element in any number of dimensions.",
        (_OPT + "test_tensor_lr_of_one_element_with_one_or_two_dims",),
    ),
    Claim(
        "Options are checked with the constructor's words when a group is added "
        "(`add_param_group`) and again at every `step()`, so a bad value edited into "
        "`param_groups` is refused before anything moves.",
        (
            _OPT + "test_added_and_edited_groups_are_checked_with_the_constructors_wording",
            _OPT + "test_constructors_reject_bad_hyperparameters",
        ),
    ),
    Claim(
        "Tensor `betas`, `beta3` and `alpha1` of one element on the CPU are read as numbers; a "
        "larger one, or one on another device, is refused with the reason.",
        (_OPT + "test_tensor_hyperparameters_on_the_cpu_are_read_as_numbers",),
    ),
    Claim(
        "One global norm over every parameter the optimizer holds, all param groups included; "
        "each group applies its own `lr`, `beta3`, `alpha1`.",
        (_OPT + "test_norm_is_global_across_param_groups",),
    ),
    Claim(
        "(The authors' released code sums per group; the two agree with a single group.)",
        (_OPT + "test_the_published_per_group_norm_agrees_with_one_group",),
    ),
    Claim(
        "The norm is accumulated in float32 or wider for bf16/fp16.",
        (
            _OPT + "test_low_precision_norm_accumulates_in_float32",
            "test_cuda.py::test_bf16_parameters_norm_in_float32",
        ),
    ),
    Claim(
        "**Choose `beta3` for your problem.** The gate is not scale invariant: ‖v‖² grows with "
        "the loss scale and the number of parameters.",
        (_OPT + "test_beta3_auto_values_follow_the_scale_and_survive_a_checkpoint",),
    ),
    Claim(
        '`VRAdam(params, beta3="auto")` (or `VRMomentum`) runs the first 10 steps with the gate '
        "off, then sets `beta3 = 2 / (largest ‖v‖² seen)`, rounded to two significant digits, "
        "in every group (`optimizer.beta3_calibration.value`; "
        "`vradam.calibrate.Beta3Calibration` for other step counts or targets).",
        (_OPT + "test_beta3_auto_is_two_over_the_peak_in_every_group",),
    ),
    Claim(
        "A group given its own number keeps it; a group added later joins the calibration in "
        "progress, or takes its value.",
        (_OPT + "test_beta3_auto_keeps_explicit_group_values_and_calibrates_groups_added_later",),
    ),
    Claim(
        'The calibration is a record in the param groups (`group["beta3_auto"]`), so '
        "`state_dict`, deepcopy and pickle carry it: a run resumed during the calibration "
        "finishes it where it stopped, one resumed after it never calibrates again.",
        (
            _OPT + "test_beta3_auto_calibration_survives_state_dict_deepcopy_and_pickle",
            _OPT + "test_beta3_auto_state_dict_is_a_snapshot",
        ),
    ),
    Claim(
        "Steps whose ‖v‖² is not finite do not count, and a calibration that saw one warns "
        "(with no finite ‖v‖² at all, β3 stays 0 and the warning says so).",
        (_OPT + "test_beta3_auto_diverging_window_warns_and_uses_the_finite_steps",),
    ),
    Claim(
        "This is this project's heuristic, not the paper's (which tunes β3 by search);",
        (_OPT + "test_beta3_auto_is_two_over_the_peak_in_every_group",),
    ),
    Claim(
        "tested on losses 10⁶ apart, the calibrated gate at least halves η within 40 steps and "
        "releases to ≥ 0.9·α0 by step 300.",
        (_OPT + "test_beta3_auto_acts_early_and_releases_whatever_the_scale",),
    ),
    Claim(
        "The CLI takes it too: `python -m vradam train --optimizer vradam:beta3=auto`, and the "
        'Networks page has a "β₃ = auto" box.',
        (_REC + "test_beta3_auto_from_the_cli_and_the_networks_page",),
    ),
    Claim(
        "By hand: log `velocity_sq_norm` for a few steps and pick `beta3` so that "
        "`beta3·‖v‖²` is around 1 early and well below 1 later; if `effective_lr` sits at "
        "`lr/(1+alpha1)` on every step, `beta3` is too large.",
        (_OPT + "test_a_too_large_beta3_sits_at_the_floor", _OPT + "test_gate_bounds_and_halving"),
    ),
    Claim(
        "Two kernels like torch's own optimizers: a for-loop and a multi-tensor `foreach` "
        "kernel (`foreach=None` picks foreach on CUDA, the for-loop on CPU).",
        (
            _OPT + "test_foreach_default_is_for_loop_on_cpu",
            "test_cuda.py::test_foreach_is_the_default_on_cuda",
        ),
    ),
    Claim(
        "With `beta3=0` both run AdamW's own operations; with the gate on they agree to "
        "rounding (the norm is summed in another order).",
        (_OPT + "test_gate_off_is_its_twin_bit_for_bit", _OPT + "test_foreach_matches_for_loop"),
    ),
    Claim(
        "`fused=True` runs torch's fused AdamW kernel, fed the gated rate (a float on the CPU, "
        "a device tensor elsewhere: no host read): with `beta3=0` it is `AdamW(fused=True)` bit "
        "for bit, with the gate on it equals the for-loop kernel to rounding.",
        (
            _OPT + "test_fused_with_the_gate_off_is_fused_adamw_bit_for_bit",
            _OPT + "test_vradam_matches_reference",
            _OPT + "test_fused_checkpoints_load_across_kernels",
            _CUDA + "test_fused_beta3_zero_is_fused_adamw_bit_for_bit_on_cuda",
            _CUDA + "test_vradam_cuda_matches_reference_without_sync",
        ),
    ),
    Claim(
        "Its ‖v_t‖² must be known before the kernel moves anything, so a pass before it reads "
        "every velocity and gradient; on the CPU that pass is two BLAS dots per tensor, ‖v_t‖² "
        "= β1²‖v_{t−1}‖² + 2β1(1−β1)⟨v_{t−1}, g_t⟩ + (1−β1)²‖g_t‖², starting from the last "
        "step's norm (taken afresh after any write to a velocity, a load or a gate-off step), "
        "and it still costs about as much as the fused kernel itself (see Speed below; on a "
        "model of small tensors the for-loop kernel is the faster one).",
        (
            _OPT + "test_fused_norm_from_the_last_step_follows_edits_loads_and_gate_off_steps",
            _OPT + "test_fused_norm_of_large_and_small_tensors_equals_the_for_loop_kernel",
            "test_benchmarks.py::test_bench_optim_quick_run",
            _REC + "test_readme_speed_names_every_bench_shape",
        ),
    ),
    Claim(
        "`capturable=True` keeps the step counters on the device so the whole step can be "
        "captured in a CUDA graph (`tests/test_cuda.py` replays it on a GPU; on the CPU it is "
        "refused with the reason), and `differentiable=True` is refused.",
        (
            _CUDA + "test_capturable_step_replays_in_a_cuda_graph",
            _OPT + "test_fused_capturable_and_differentiable_are_refused_clearly_where_unsupported",
        ),
    ),
    Claim(
        "On the CPU the velocities (`exp_avg`) of each param group are views of one flat "
        "buffer, so ‖v‖² is one reduction however many tensors the model has.",
        (_OPT + "test_cpu_velocities_are_views_of_one_flat_buffer",),
    ),
    Claim(
        "A group made only of small tensors (under 65,536 elements each, 2²⁰ in all, as the "
        "Networks page's models) keeps its other moments there too and steps as a few "
        "operations on whole flat tensors, with the same numbers bit for bit, for two scratch "
        "buffers of its size.",
        (_OPT + "test_flat_step_of_small_tensors_equals_tensor_by_tensor",),
    ),
    Claim(
        "The state keeps torch's names and shapes, and a checkpoint (which holds the views) "
        "loads into VRAdam or AdamW alike.",
        (
            _OPT + "test_state_is_lazy_and_named_like_torch",
            _OPT + "test_cpu_velocities_are_views_of_one_flat_buffer",
            _OPT + "test_state_dict_round_trip_continues_identically",
            _OPT + "test_state_dict_of_another_optimizer",
        ),
    ),
    Claim(
        "No host-device synchronisation inside `step()` on GPUs: the gate is computed on the "
        "device.",
        (
            _OPT + "test_step_on_meta_device_never_reads_values",
            "test_cuda.py::test_vradam_cuda_matches_reference_without_sync",
        ),
    ),
    Claim(
        "Distributed: works unchanged under DDP.", (_DIST + "test_ddp_replicated_works_unchanged",)
    ),
    Claim(
        "For sharded parameters (FSDP2 / DTensor) the squared norm is summed across ranks "
        "automatically; for parameters you shard by hand pass `process_group=`; either way it "
        "is one all-reduce of one scalar per step.",
        (
            _DIST + "test_dtensor_equals_single_process",
            _DIST + "test_hand_sharded_equals_single_process",
            _DIST + "test_one_scalar_all_reduce_per_step",
        ),
    ),
    Claim(
        "`ZeroRedundancyOptimizer` shards the parameters and keeps its own `process_group=`, so "
        "build it with `optimizer_class=functools.partial(VRAdam, process_group=group)`: each "
        "rank's local optimizer then sums ‖v‖² across ranks and the run equals one process.",
        (_DIST + "test_zero_redundancy_optimizer_with_a_process_group_equals_single_process",),
    ),
    Claim(
        "Without it each rank would gate on its own shard, and VRAdam warns.",
        (_DIST + "test_zero_redundancy_optimizer_with_a_process_group_equals_single_process",),
    ),
    Claim(
        "Works with torch LR schedulers (StepLR, CosineAnnealingLR, OneCycleLR and CyclicLR with "
        "`cycle_momentum`: VRAdam's `betas[0]`, VRMomentum's `beta1` through its `momentum` "
        "mirror), `state_dict`/`load_state_dict`, closures, `maximize`, complex parameters.",
        (
            _OPT + "test_schedulers_move_alpha0_and_the_gate_divides_it",
            _OPT + "test_vrmomentum_follows_cycle_momentum_schedulers",
            _OPT + "test_state_dict_round_trip_continues_identically",
            _OPT + "test_closure_runs_with_grad_and_returns_loss",
            _OPT + "test_vradam_matches_reference",
            _OPT + "test_complex_parameters_follow_adamw",
        ),
    ),
    Claim(
        "Of VRMomentum's `beta1` and `momentum`, whichever changed since the last step wins, "
        "before the first step too.",
        (
            _OPT + "test_vrmomentum_beta1_set_by_hand_before_the_first_step_wins",
            _OPT + "test_vrmomentum_follows_cycle_momentum_schedulers",
        ),
    ),
    Claim(
        "Checkpoints of other optimizers: an AdamW or Adam checkpoint loads into VRAdam and "
        "continues as the VRAdam you constructed: options the checkpoint lacks (`beta3`, "
        "`alpha1`) keep the constructor's values, per param group; with `beta3=0` the run "
        "continues bit for bit as the checkpoint's optimizer would.",
        (
            _OPT + "test_state_dict_of_another_optimizer",
            _OPT + "test_an_adamw_checkpoint_continues_as_the_constructed_vradam",
        ),
    ),
    Claim(
        "A VRAdam checkpoint loads into AdamW the same way.",
        (_OPT + "test_state_dict_of_another_optimizer",),
    ),
    Claim(
        "What cannot be continued is refused with one clear error before anything is loaded: "
        "an `amsgrad` checkpoint, Adam's L2 weight decay, and (VRMomentum) SGD's "
        "`momentum_buffer`, which is 1/(1−μ) times an EMA velocity.",
        (_OPT + "test_state_dict_of_another_optimizer",),
    ),
    Claim(
        "`torch.compile`: a compiled training step (model, loss, backward, `step()`) equals the "
        "eager one, makes no more graphs than the same step with AdamW and does not recompile "
        "as the gate moves (`tests/test_compile.py`; `aot_eager` on CPU in CI, inductor on a "
        "GPU via `benchmarks/gpu_check.sh`).",
        (
            _CMP + "test_compiled_training_step_equals_eager",
            _CMP + "test_compiled_step_alone_does_not_recompile",
            _CMP + "test_step_alone_makes_no_more_graphs_than_adamw",
            _REC + "test_gpu_script_runs_the_compile_tests_and_every_bench_shape",
        ),
    ),
    Claim(
        "Like torch's, the optimizer follows the `_init_group` protocol, so its lazy state is "
        "created outside the graph.",
        (_CMP + "test_first_compiled_step_creates_the_state_like_eager",),
    ),
    Claim(
        'With `beta3="auto"` a compiled step calibrates the same β3 as eager and then gates as '
        "eager does: the calibration's records stay outside the graph (a graph break per "
        "calibration step, no recompile until β3 is set).",
        (_CMP + "test_compiled_step_with_auto_beta3_calibrates_as_eager",),
    ),
    Claim(
        "torch's generic optimizer checks, driven by the `OptimizerInfo` database in torch's "
        "wheel (`torch.testing._internal.common_optimizers`; torch's `test/test_optim.py` is "
        "not in the wheel), run on VRAdam and VRMomentum in `tests/test_torch_generic.py`: "
        "AdamW's error inputs raise as AdamW's do, except where VRAdam accepts more (a Tensor "
        "`lr` with `foreach=True`, Tensor `betas`); with `beta3=0` every AdamW input equals "
        "AdamW on the for-loop, foreach and fused kernels; state dicts continue bit for bit "
        "(the fused kernel with the gate on to rounding), older state dicts load, deepcopy "
        "copies every public attribute, steps without gradients or with zero ones move "
        "nothing, and complex parameters step as their real views.",
        tuple(
            _GEN + name
            for name in (
                "test_errors",
                "test_gate_off_is_adamw_on_every_input_and_kernel",
                "test_state_dict_continues_bit_for_bit",
                "test_can_load_older_state_dict",
                "test_deepcopy_copies_all_public_attrs",
                "test_step_is_noop_without_grads_and_for_zero_grads",
                "test_complex_parameters_step_as_their_real_views",
            )
        ),
    ),
    Claim(
        "`beta3=0` is AdamW in every regime, including an overflowing ‖v‖² (then 0·inf would be "
        "NaN; the gate is skipped instead); with `beta3 > 0` a non-finite ‖v‖² (an infinite one, "
        "or a NaN anywhere in the velocities) clips the gate at `alpha1`.",
        (
            _OPT + "test_overflowing_velocity_norm",
            _OPT + "test_one_non_finite_gradient_tensor_clips_the_gate_and_spares_the_others",
        ),
    ),
    Claim(
        "So one non-finite gradient tensor is lost as under AdamW, and every other tensor steps "
        "at `lr/(1+alpha1)` while the bad velocity stays in the state, instead of every "
        "parameter turning NaN.",
        (
            _OPT + "test_one_non_finite_gradient_tensor_clips_the_gate_and_spares_the_others",
            _OPT + "test_non_finite_gradients_propagate_like_adamw",
        ),
    ),
    Claim(
        "`VRMomentum(params, lr=1e-2, beta1=0.9, beta3=1.0, alpha1=10.0, weight_decay=0.0)`: "
        "the paper's momentum ablation (same gate on EMA momentum, no Adam preconditioner, no "
        "bias correction), the form its stability theory uses; with `beta3=0` it is EMA "
        "momentum, bit for bit.",
        (
            _OPT + "test_signatures_are_the_documented_ones",
            _OPT + "test_vrmomentum_matches_reference",
            _OPT + "test_gate_off_is_its_twin_bit_for_bit",
        ),
    ),
    Claim(
        "Functional forms `vradam.vradam(...)` and `vradam.vrmomentum(...)` (torch.optim style) "
        "and the gate itself, `vradam.effective_lr(lr, velocity_sq_norm, beta3, alpha1)`, which "
        "broadcasts over batches of independent runs.",
        (
            _REC + "test_functional_form_equals_the_class",
            _OPT + "test_effective_lr_broadcasts_over_runs",
        ),
    ),
    # The numbers are what the scripts printed last (BENCHMARKS.md has the tables); the tests
    # run the scripts and check that the statement names every measured shape.
    Claim(
        "Speed (CPU, same kernel as AdamW, latest run of `benchmarks/bench_optim.py`, one "
        "thread timed by its CPU clock on a shared machine): VRAdam's step takes 0.94× AdamW's "
        "on 1M parameters in 52 tensors, 0.91× on 10M in 76 tensors, 0.97× on 10M in 196 "
        "smaller tensors and 0.38× on a 30k-parameter model in 52 tensors (the for-loop kernel, "
        "the default on CPU; the foreach kernel: 0.65–1.04×), medians over three rounds whose "
        "own medians reach 0.997× at most.",
        (
            "test_benchmarks.py::test_bench_optim_quick_run",
            _REC + "test_readme_speed_names_every_bench_shape",
        ),
    ),
    Claim(
        "The fused kernel takes 1.84× a fused AdamW step on 10M parameters (2.0× on 1M, 2.6× "
        "on 30k; a fused AdamW step is 3.4–4.7× faster than AdamW's for-loop step on the CPU): "
        "the pass that takes ‖v_t‖² before the kernel reads velocities and gradients once more, "
        "and the fused kernel does all of AdamW's work in about the time of that read "
        "(BENCHMARKS.md gives the bytes: no pass before the kernel can reach 1.10×).",
        (
            "test_benchmarks.py::test_bench_optim_quick_run",
            _OPT + "test_fused_norm_of_large_and_small_tensors_equals_the_for_loop_kernel",
        ),
    ),
    Claim(
        "Training throughput on the Networks page's models is 0.99–1.05× AdamW's for the "
        "digits CNN and 1.05–1.14× for the modadd transformer over six runs of "
        "`benchmarks/bench_train.py`. See [BENCHMARKS.md](BENCHMARKS.md).",
        ("test_benchmarks.py::test_bench_train_quick_run",),
    ),
)
