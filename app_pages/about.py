"""About: VRAdam in plain words, its update rule, the physics, the paper's results."""

import streamlit as st

import vradam
from vradam.app.ui.about import measured_section

st.title("Velocity-Regularized Adam (VRAdam)")
st.caption(
    "Vaidhyanathan, Schorling, Ares, Osborne. *A Physics-Inspired Optimizer: Velocity "
    "Regularized Adam.* [arXiv:2505.13196](https://arxiv.org/abs/2505.13196) (ICLR 2026). "
    f"Reference implementation: `vradam` {vradam.__version__}."
)

st.markdown(
    """
**In plain words.** VRAdam is AdamW with one change: the learning rate shrinks when the
optimizer moves fast. Adam keeps a running average of the gradient, its *velocity* $v$.
VRAdam measures how large that velocity is over the whole model, $\\lVert v\\rVert^2$, and
divides the learning rate by $1 + \\min(\\beta_3\\lVert v\\rVert^2, \\alpha_1)$. Far from a
minimum, or when the iterates start to bounce across a ravine, the velocity is large and the
step is damped; near a minimum the velocity is small and the full learning rate $\\alpha_0$
returns. Whether that helps, where, and at what cost is measured below.
"""
)
measured_section()

st.subheader("The update rule")
st.markdown(
    "One step, with $g_t = \\nabla f(\\theta_{t-1})$. The only line that differs from AdamW "
    "is the dynamic learning rate $\\eta_t$."
)
# One short line each (no comment column): the block fits a phone's width.
st.latex(
    r"""
\begin{aligned}
v_t &= \beta_1 v_{t-1} + (1-\beta_1)\, g_t \\[3pt]
m_t &= \beta_2 m_{t-1} + (1-\beta_2)\, g_t^2 \\[3pt]
\eta_t &= \frac{\alpha_0}{1 + \min\!\left(\beta_3 \lVert v_t \rVert^2,\ \alpha_1\right)} \\[3pt]
\hat v_t &= \frac{v_t}{1-\beta_1^t}, \quad \hat m_t = \frac{m_t}{1-\beta_2^t} \\[3pt]
\theta_t &= \theta_{t-1}(1 - \eta_t \lambda) \\[3pt]
&\quad - \eta_t \frac{\hat v_t}{\sqrt{\hat m_t} + \epsilon}
\end{aligned}
"""
)
st.markdown(
    "Line by line: $v_t$ is the first moment, the *velocity*; $m_t$ the second moment; "
    "$\\eta_t$ the dynamic learning rate, with one global norm over every parameter; "
    "$\\hat v_t, \\hat m_t$ the bias corrections; and $\\lambda$ the decoupled weight decay."
)
st.markdown(
    """
- $\\eta_t$ always lies in $[\\alpha_0/(1+\\alpha_1),\\ \\alpha_0]$. It halves when
  $\\lVert v \\rVert = 1/\\sqrt{\\beta_3}$ and sits at the floor once
  $\\beta_3\\lVert v\\rVert^2 \\ge \\alpha_1$, so training never stalls.
- With $\\beta_3 = 0$ VRAdam *is* AdamW (this package checks that bit for bit).
- The norm is of the raw first moment, squared, over **all** parameters at once: one scalar
  gate, not one per coordinate. With several parameter groups the norm still covers all of
  them and each group applies its own $\\alpha_0, \\beta_3, \\alpha_1$. (The authors' released
  code sums per group instead; the two agree with a single group.)
- The gate is **not scale invariant**: $\\lVert v\\rVert^2$ grows with the loss scale and
  the number of parameters. A $\\beta_3$ that damps one problem can clip another on every step,
  and then VRAdam is simply AdamW at $\\alpha_0/(1+\\alpha_1)$. Choose $\\beta_3$ so the gate
  acts in the early transient and releases near the minimum.
"""
)

st.subheader("The physics")
st.markdown(
    """
Think of the parameters as a particle rolling on the loss surface $V(x)$. VRAdam's gate comes
from a kinetic energy with a **quartic** term, as in classical time crystals and the NRQCD
energy expansion: $T(v) = \\tfrac{M}{2}\\lVert v\\rVert^2 + \\tfrac{\\beta_3}{4}\\lVert v\\rVert^4$.
Its momentum is $p = (M + \\beta_3\\lVert v\\rVert^2)\\,v$ and Newton's law $\\dot p = -\\nabla V$
says the effective mass grows with speed, so fast motion is damped. VRAdam does not integrate
this equation: it keeps the factor $1/(1 + \\beta_3\\lVert v\\rVert^2)$, clips it with
$\\alpha_1$, and uses it to gate AdamW's learning rate.
"""
)

st.subheader("What the paper reports")
st.markdown(
    """
Losses, lower is better (validation / test), as reported in the paper (its models and
data, not this package's; the lowest in bold):

- **WikiText-2 language modelling**: VRAdam **5.99 / 6.00**, AdamW 6.47 / 6.50, RAdam
  7.51 / 7.55, SGD + Nesterov NaN, RMSProp NaN.
- **CIFAR-10 classification**: VRAdam **0.476 / 0.469**, AdamW 0.522 / 0.565, RAdam
  2.300 / 4.005, SGD + Nesterov 0.625 / 0.620, RMSProp 0.801 / 0.813.
- **GridWorld GFlowNet flow matching**: VRAdam **1.25 / 1.33**, AdamW 2.41 / 3.60, RAdam
  1.41 / 2.29, SGD + Nesterov 2.71 / 2.61, RMSProp 25.0 / 25.0.

GPT-2 (124M) on FineWeb-Edu: validation loss 3.447 with VRAdam against 3.511 with AdamW, at the
same time per epoch. On ResNet-32 / CIFAR-10 the paper reports VRAdam's loss falling faster
than Adam's and SAM's, a lower top Hessian eigenvalue, and an effective learning rate that dips
in the first ~25 steps and then returns close to $\\alpha_0$.
"""
)

st.subheader("Use VRAdam in your own training code")
st.markdown(
    "Install the package from a checkout of this repository (it needs only torch and numpy), "
    "then use `VRAdam` wherever you would use `torch.optim.AdamW`:"
)
st.code("pip install .", language="bash")
st.code(
    """import torch
from vradam import VRAdam

model = torch.nn.Linear(10, 1)
optimizer = VRAdam(model.parameters(), lr=1e-3, betas=(0.9, 0.999),
                   beta3=1.0, alpha1=10.0, weight_decay=1e-2)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=1000)

for x, y in loader:
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    scheduler.step()          # schedules move alpha0 (lr); the gate divides it
    eta = optimizer.param_groups[0]["effective_lr"]        # 0-dim tensor, eta_t
    v2 = optimizer.param_groups[0]["velocity_sq_norm"]     # 0-dim tensor, ||v_t||^2
""",
    language="python",
)
st.markdown(
    """
`VRAdam(params, lr=1e-3, betas=(0.9, 0.999), beta3=1.0, alpha1=10.0, eps=1e-8,
weight_decay=1e-2, *, maximize=False, foreach=None)`. It works with torch LR schedulers, saves
and loads with `state_dict`, runs a for-loop or a multi-tensor (`foreach`) kernel, never
synchronises with the host inside `step()` on GPUs, and sums the norm across ranks for sharded
parameters (FSDP2/DTensor, or `process_group=` for hand-sharded tensors). `VRMomentum` is the
paper's momentum ablation (same gate, no Adam preconditioner).
"""
)

st.subheader("Cite")
st.code(
    """@misc{vaidhyanathan2025vradam,
  title         = {A Physics-Inspired Optimizer: Velocity Regularized Adam},
  author        = {Pranav Vaidhyanathan and Lucas Schorling and Natalia Ares
                   and Michael A. Osborne},
  year          = {2025},
  eprint        = {2505.13196},
  archivePrefix = {arXiv},
  primaryClass  = {cs.LG},
  note          = {ICLR 2026},
  url           = {https://arxiv.org/abs/2505.13196}
}""",
    language="bibtex",
)
