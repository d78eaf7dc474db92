"""The optimizer's step kernels beyond the per-tensor ones in :mod:`vradam.functional`.

:mod:`vradam.kernels.flat` steps a param group's small tensors as views of one flat buffer
(and holds the optimizer's one cache); :mod:`vradam.kernels.fused` feeds the gated rate to
torch's fused AdamW kernel. Torch only.
"""
