"""One row per optimizer record: the facts the tests check it against, written out by hand.

Every optimizer in ``vradam.sim.optimizers.REGISTRY`` has exactly one row (a test
checks), and the optimizer, engine, threshold and step-through tests are parametrised
over these rows, so a new optimizer is one record plus one row here.

A row holds what is known independently of the record: the torch.optim class it must
match and the torch keyword arguments of each engine case (so the record's own torch
twin is checked, not trusted), the names of its torch state, the spec values it must
refuse, the closed-form stability threshold of docs/theory.md §2, and for the two
optimizers this package ships, their constructor's bad inputs and functional form.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from vradam import VRAdam, VRMomentum, functional
from vradam.sim.lion import Lion


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
        {"exp_avg": "velocity", "exp_avg_sq": "second"}, _adam, _ADAM_BAD),
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
            (dict(alpha1=-1.0), "Invalid alpha1 value: -1.0"),
            (dict(weight_decay=-0.01), "Invalid weight_decay value: -0.01"),
        ),
        functional=_vradam_functional),
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
            (dict(weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
        ),
        functional=_vrmomentum_functional),
]  # fmt: skip
ROW = {r.key: r for r in ROWS}
CASES = [(r.key, flat, r.torch_class, torch_kwargs) for r in ROWS for flat, torch_kwargs in r.cases]
BAD_CLASS = [(r.torch_class, kw, msg) for r in ROWS for kw, msg in r.bad_class]
