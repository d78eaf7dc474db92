"""The batched lockstep trainer: B copies of a Linear/Tanh MLP (one row per optimizer ×
seed), trained full batch in lockstep, each row by its optimizer record's update.

Every row follows the engine's unified form (vradam.sim.unified.Coefficients), so any
registered optimizer whose update fits that form trains here without code of its own:
the direction, both moments, the preconditioner, weight decay and the velocity gate
(VRAdam, VRMomentum: one global ‖v‖² per row, as the torch class computes it per model)
are read from its per-step coefficient tables. The sharpness of all rows comes from one
batched Lanczos over exact Hessian-vector products (:class:`TanhMLPBatch`).

Used by vradam.studies.eos (the Edge of stability page); tests check it against
torch.optim on the ``nn.Module`` (tests/test_eos.py).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from vradam.sim.optimizers import OptimizerSpec
from vradam.sim.unified import gate
from vradam.studies.sharpness import top_eigenvalues

__all__ = ["HVP_DTYPE", "LANCZOS_TOL", "TRAIN_DTYPE", "Lockstep", "TanhMLPBatch"]

# Lanczos stops at a Ritz residual of LANCZOS_TOL·|λ|. Along the default run (4 rows, 26
# samples) 1e-4 gave λmax within 6e-8 of the exact Hessian's in 9 products a sample on
# average; 1e-3 saved two products but once missed by 1.3 % (measured).
LANCZOS_TOL = 1e-4
TRAIN_DTYPE = torch.float32  # the MLP rows, as train_steps trains them (vradam.studies.eos)
HVP_DTYPE = torch.float32  # Hessian-vector products for the sharpness: ~1e-6 relative


def _cast(value, dtype: torch.dtype):
    """A tensor, or nested lists and tuples of them (None kept), in ``dtype``."""
    if isinstance(value, Tensor):
        return value.to(dtype)
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(v, dtype) for v in value)
    return value


def _tanh(a: Tensor) -> Tensor:
    """tanh(a) = 2σ(2a) − 1: equal to torch.tanh to a rounding (1e-16 absolute in float64)
    and 2.5× faster on the CPU (5 ns against 2 ns an element in float64, measured)."""
    return torch.sigmoid(a * 2).mul(2).sub_(1)  # (σ kept for autograd, as the tests use)


class TanhMLPBatch:
    """B copies of a Linear/Tanh MLP under mean squared error, one per row of a (B, n)
    parameter tensor (in the order of ``model.parameters()``), each on its own data: the
    loss, its gradient and exact Hessian-vector products written out as batched matrix
    products (backpropagation and its R-operator, Pearlmutter 1994), without an autograd
    graph. The tests check both against autograd."""

    def __init__(self, x: Tensor, y: Tensor, shapes: list[tuple[int, ...]]) -> None:
        self.x, self.y = x, y  # (B, N, d_in), (B, N, d_out)
        self.spans, offset = [], 0  # each layer's weight shape and its columns in a row
        for w, b in zip(shapes[::2], shapes[1::2]):
            self.spans.append((w, offset, offset + w[0] * w[1], offset + w[0] * w[1] + b[0]))
            offset += w[0] * w[1] + b[0]
        self.size = offset
        self.scale = 2.0 / (y.shape[1] * y.shape[2])  # ∂ mean(r²)/∂r = scale·r

    def layers(self, flat: Tensor) -> list[tuple[Tensor, Tensor]]:
        """(weight (B, out, in), bias (B, out)) views of each layer of ``flat`` (B, n)."""
        B = flat.shape[0]
        return [(flat[:, a:b].view(B, *w), flat[:, b:c]) for w, a, b, c in self.spans]

    def forward(self, theta: Tensor, layers: list | None = None) -> dict:
        """The loss (B,) and what :meth:`gradient` and :meth:`hvp` reuse (``layers``:
        ``self.layers(theta)``, when the caller keeps them)."""
        layers = self.layers(theta) if layers is None else layers
        hs = [self.x]  # the input of each layer
        for k, (w, b) in enumerate(layers):
            a = torch.baddbmm(b.unsqueeze(1), hs[-1], w.transpose(1, 2))
            hs.append(_tanh(a) if k < len(layers) - 1 else a)
        r = hs.pop() - self.y
        return dict(layers=layers, hs=hs, r=r, loss=r.square().mean(dim=(1, 2)))

    def gradient(self, cache: dict, out: Tensor | None = None) -> Tensor:
        """(B, n) ∇ loss (into ``out`` when given); keeps the backpropagated errors in
        ``cache`` for :meth:`hvp`."""
        layers, hs = cache["layers"], cache["hs"]
        grad = torch.empty(hs[0].shape[0], self.size, dtype=hs[0].dtype) if out is None else out
        g = self.layers(grad)
        L = len(layers)
        delta = self.scale * cache["r"]  # ∂loss/∂(pre-activation), from the top layer down
        deltas, back, slope = [delta] * L, [None] * L, [None] * L
        for k in reversed(range(L)):
            deltas[k] = delta
            g[k][0].copy_(torch.bmm(delta.transpose(1, 2), hs[k]))
            g[k][1].copy_(delta.sum(dim=1))
            if k > 0:
                back[k] = torch.bmm(delta, layers[k][0])  # ∂loss/∂hs[k]
                slope[k] = 1 - hs[k].square()  # tanh′ at the layer below
                delta = back[k] * slope[k]
        cache.update(deltas=deltas, back=back, slope=slope)
        return grad

    def hvp(self, cache: dict, v: Tensor) -> Tensor:
        """(B, n) H·v, row by row, at the parameters of ``cache`` (after :meth:`gradient`)."""
        layers, hs, slope = cache["layers"], cache["hs"], cache["slope"]
        deltas, back, dv, L = cache["deltas"], cache["back"], self.layers(v), len(layers)
        Rh = [None]  # R{hs[k]}: the derivative of each layer's input along v
        for k, (w, _) in enumerate(layers):
            Ra = torch.baddbmm(dv[k][1].unsqueeze(1), hs[k], dv[k][0].transpose(1, 2))
            if k > 0:
                Ra = torch.baddbmm(Ra, Rh[k], w.transpose(1, 2))
            Rh.append(Ra * slope[k + 1] if k < L - 1 else Ra)
        out = torch.empty_like(v)
        Hv = self.layers(out)
        Rdelta = self.scale * Rh.pop()
        for k in reversed(range(L)):
            RgW = torch.bmm(Rdelta.transpose(1, 2), hs[k])
            if k > 0:
                RgW = torch.baddbmm(RgW, deltas[k].transpose(1, 2), Rh[k])
            Hv[k][0].copy_(RgW)
            Hv[k][1].copy_(Rdelta.sum(dim=1))
            if k > 0:
                Rback = torch.baddbmm(torch.bmm(deltas[k], dv[k][0]), Rdelta, layers[k][0])
                Rdelta = Rback * slope[k] - 2 * back[k] * hs[k] * Rh[k]
        return out


class Lockstep:
    """B copies of the teacher MLP (one row per optimizer × seed), trained full batch in
    lockstep on their seeds' data, in ``dtype``, for up to ``steps`` updates. Each row
    follows its record's coefficients (the engine's unified form, one table per step, at
    the row's base rate for that step: α0, or ``rates`` when given, e.g. a schedule's);
    ``eta`` holds each row's η_t of the last update (the gated rate for the VR rows)."""

    def __init__(
        self,
        specs: list[OptimizerSpec],
        seeds: list[int],
        steps: int,
        dtype: torch.dtype = TRAIN_DTYPE,
        rates: list[np.ndarray] | None = None,
    ) -> None:
        from vradam.studies.networks import get_task

        task = get_task("teacher")
        for s in specs:
            if any(isinstance(v, str) for v in s.hyperparams.values()):
                raise ValueError(f"the lockstep trainer needs numbers (β3 not 'auto'), not {s}")
        data, flat = {}, {}
        for seed in sorted(set(seeds)):
            data[seed] = task.make_data(seed)
            torch.manual_seed(seed)  # the initial weights train_steps gives this seed
            model = task.make_model()
            if not all(isinstance(m, (torch.nn.Linear, torch.nn.Tanh)) for m in model.net):
                raise ValueError("the lockstep trainer runs Linear/Tanh MLPs only")
            shapes = [tuple(p.shape) for p in model.parameters()]
            flat[seed] = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
        x = torch.stack([data[s].x_train for s in seeds]).to(dtype)  # (B, N, d_in)
        y = torch.stack([data[s].y_train for s in seeds]).to(dtype)  # (B, N, 1)
        self.net = TanhMLPBatch(x, y, shapes)
        self.theta = torch.stack([flat[s] for s in seeds]).to(dtype)  # (B, n), updated in place
        self.views = self.net.layers(self.theta)  # stay valid: theta changes in place
        self.grad = torch.empty_like(self.theta)
        B, n = self.theta.shape
        self.velocity = torch.zeros(B, n, dtype=dtype)  # each record's velocity state
        self.second = torch.zeros(B, n, dtype=dtype)  # its second moment / accumulator
        self.steps = 0
        # the rows' coefficient tables: (T, B, 1) in the rows' dtype; the rate in float64
        # (``rates``: each row's base rate per update, a schedule's α0·factor; default α0)
        T = max(int(steps), 1)
        if rates is None:
            rates = [np.full(T, float(s.hyperparams["lr"])) for s in specs]
        if len(rates) != len(specs) or any(np.shape(r) != (T,) for r in rates):
            raise ValueError(f"give one rate per update ({T}) for every row")
        coefs = [s.coefficients(np.asarray(r, dtype=np.float64)) for s, r in zip(specs, rates)]
        self.tables = {
            name: torch.from_numpy(np.stack([getattr(c, name) for c in coefs], axis=1))[..., None]
            for name in coefs[0].TABLES
        }
        for name, table in self.tables.items():
            if name not in ("lr", "beta3", "alpha1"):
                self.tables[name] = table.to(dtype)
        self.sign = torch.tensor([c.sign for c in coefs])[:, None]
        self.any_m = bool(self.tables["b2"].any())
        self.eta = self.tables["lr"][0, :, 0].clone()
        # P for the sharpness: the record's preconditioner state, bias-corrected or not
        # (as vradam.sim.optimizers.preconditioner reads it from torch's state)
        self.precond = [s.info.precond_state is not None for s in specs]
        self.bias_corrected = [s.info.precond_bias_corrected for s in specs]
        self.beta2 = [float(s.hyperparams.get("beta2", 0.0)) for s in specs]
        self.eps = [float(s.hyperparams.get("eps", 0.0)) for s in specs]
        gen = torch.Generator().manual_seed(0)
        self.eigvecs = torch.randn(B, n, generator=gen, dtype=torch.float64)

    def preconditioner(self) -> Tensor:
        """(B, n) P = √m̂ + ε for the rows whose record has a preconditioner (m̂ = m/(1 −
        β2^t) where it is bias-corrected), 1 for the others."""
        P = torch.ones_like(self.second)
        if self.steps == 0:
            return P
        for i, has in enumerate(self.precond):
            if has:
                bc = 1 - self.beta2[i] ** self.steps if self.bias_corrected[i] else 1.0
                P[i] = (self.second[i] / bc).sqrt() + self.eps[i]
        return P

    def sharpness(self, cache: dict) -> Tensor:
        """(B,) λmax of each row's H, or of P^-½HP^-½ for the preconditioned rows, at the
        parameters of ``cache``; Lanczos warm-started from the previous eigenvectors."""
        d = self.preconditioner().rsqrt()

        def solve(dtype: torch.dtype) -> tuple[Tensor, Tensor]:
            fast, dd = {k: _cast(v, dtype) for k, v in cache.items()}, d.to(dtype)

            def product(v: Tensor) -> Tensor:
                return (dd * self.net.hvp(fast, dd * v.to(dtype))).double()

            values, vectors, _ = top_eigenvalues(product, self.eigvecs, tol=LANCZOS_TOL)
            return values, vectors

        values, vectors = solve(HVP_DTYPE)
        redo = ~torch.isfinite(values)
        if redo.any() and HVP_DTYPE != self.theta.dtype:  # too large for float32 products
            again, more = solve(self.theta.dtype)
            values, vectors = (
                torch.where(redo, again, values),
                torch.where(redo[:, None], more, vectors),
            )
        self.eigvecs = vectors
        return values

    def update(self, grad: Tensor) -> None:
        """One step of every row's optimizer (in place), the unified form of
        vradam.sim.unified.Coefficients; sets ``self.eta`` (B,) to each η_t."""
        k, self.steps = self.steps, self.steps + 1
        c = {name: table[k] for name, table in self.tables.items()}
        theta, v, m, dt = self.theta, self.velocity, self.second, self.theta.dtype
        g = grad + c["wd_l2"] * theta if bool(c["wd_l2"].any()) else grad
        num = c["c1"] * v + c["c2"] * g
        v.mul_(c["a1"]).add_(c["b1"] * g)
        if self.any_m:
            m.mul_(c["a2"]).add_(c["b2"] * g * g)
            upd = num / ((c["c3"] * m).sqrt() + c["e"])
        else:
            upd = num / c["e"]
        if bool(self.sign.any()):
            upd = torch.where(self.sign, num.sign(), upd)
        eta = c["lr"]
        if bool(c["beta3"].any()):  # η_t from each row's own ‖v‖² (one norm per model)
            sq = v.square().sum(1, keepdim=True).double()
            eta = torch.where(c["beta3"] > 0, gate(eta, sq, c["beta3"], c["alpha1"]), eta)
        if bool(c["wd_dec"].any()):
            upd = upd + c["wd_dec"] * theta
        theta.sub_(eta.to(dt) * upd)
        self.eta = eta[:, 0]
