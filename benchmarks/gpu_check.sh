#!/usr/bin/env bash
# One prepared script for a GPU machine (its own python3 has CUDA torch, numpy,
# scipy, scikit-learn and pytest; no streamlit, nothing installable). Runs the
# CUDA and torch.compile tests and the CUDA benchmarks; results land in $OUT (or ./gpu-results).
#
#   bash benchmarks/gpu_check.sh
set -u
OUT="${OUT:-gpu-results}"
mkdir -p "$OUT"
export PYTHONPATH=.
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
python3 -c "import torch; print(torch.__version__, torch.cuda.get_device_name(0))" > "$OUT/torch.txt" 2>&1
# CUDA numbers against the float64 reference without a host sync, for the for-loop, foreach,
# fused and capturable kernels; fused beta3=0 == AdamW(fused=True) bit for bit; capturable
# steps captured in a CUDA graph and replayed
python3 -m pytest -o addopts= -q -rs tests/test_cuda.py > "$OUT/test_cuda.txt" 2>&1
echo "test_cuda rc=$?" >> "$OUT/test_cuda.txt"
# torch.compile for real (inductor) on the GPU, for every optimizer row of tests/optimizer_table.py
# that has compile settings: compiled training step == eager, no more graphs than AdamW, no
# recompiles as the gate moves
VRADAM_COMPILE_BACKEND=inductor python3 -m pytest -o addopts= -q -rs tests/test_compile.py \
  > "$OUT/test_compile.txt" 2>&1
echo "test_compile rc=$?" >> "$OUT/test_compile.txt"
# every shape of bench_optim.py (1M, 10M in 76 and in 196 tensors, the 30k Networks scale),
# each with the for-loop, foreach and fused kernels (VRAdam against AdamW with the same one)
python3 benchmarks/bench_optim.py --device cuda --json "$OUT/bench_optim_cuda.json" \
  > "$OUT/bench_optim_cuda.md" 2>&1
echo "bench rc=$?" >> "$OUT/bench_optim_cuda.md"
python3 benchmarks/bench_train.py --device cuda > "$OUT/bench_train_cuda.md" 2>&1
echo "bench_train rc=$?" >> "$OUT/bench_train_cuda.md"
# the Networks page's landscape grid (41×41) on the GPU
python3 benchmarks/bench_landscape.py --device cuda > "$OUT/bench_landscape_cuda.md" 2>&1
echo "bench_landscape rc=$?" >> "$OUT/bench_landscape_cuda.md"
cat "$OUT"/*.txt "$OUT"/*.md
