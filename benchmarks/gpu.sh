#!/usr/bin/env bash
# The engine on a CUDA device, in under 5 minutes: a check that the torch engine trains there as on the CPU,
# then the batched benchmark's grid on the GPU (hfx's torch engine against the torch.func vmap ensemble),
# then one CNN degradation run (the degradation experiment's device=cuda).
# Usage: bash benchmarks/gpu.sh [OUT_DIR]     (needs a CUDA build of torch; exits 2 without a CUDA device)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-gpu-out}}
py=${PYTHON:-.venv/bin/python}
if ! "$py" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  echo "gpu.sh: no CUDA device visible to torch" >&2
  exit 2
fi
mkdir -p "$out"
"$py" -c 'import torch; print(torch.__version__, torch.cuda.get_device_name(0))' | tee "$out/device.txt"

# 1. the same runs on the CPU and on the GPU agree (float64, the torch engine on both)
timeout 60 "$py" - <<'PY' | tee "$out/agreement.txt"
import torch
from numerics.models import BlockSpec, init_params
from numerics.train import OptimizerSpec, train
spec = BlockSpec(block="mlp", variant="rezero", depth=6, width=8, hidden=8, activation="tanh")
g = torch.Generator().manual_seed(0)
p = init_params(spec, 16, "xavier", 1.0, g)
x = torch.randn((16, 32, 8), generator=g, dtype=torch.float64)
y = x + 0.3 * torch.tanh(x)
lr, lam = torch.full((16,), 0.01, dtype=torch.float64), torch.zeros(16, dtype=torch.float64)
res = {dev: train(spec, p, x, y, OptimizerSpec("adam"), lr, lam, 50, 1e-3, torch.Generator().manual_seed(1),
                  engine="torch", device=dev) for dev in ("cpu", "cuda")}
diff = max(float((res["cpu"].params[k] - res["cuda"].params[k]).abs().max()) for k in p)
print(f"cpu vs cuda, 50 Adam steps, float64: max |Δθ| = {diff:.2e}")
assert diff < 1e-9, diff
assert list(res["cpu"].status) == list(res["cuda"].status)
PY

# 2. the benchmark's grid on the GPU (float32): hfx (torch engine on CUDA) against vmap and compiled vmap
timeout 200 "$py" benchmarks/bench_batched.py --device cuda --modes default --rounds 3 --steps 300 \
  --json "$out/bench_batched_cuda.json" | tee "$out/bench_batched_cuda.txt"

# 3. one CNN degradation run on the GPU: He et al.'s CIFAR ResNet (6n + 2 layers, 16/32/64 filters, BN) on the
#    digits, plain vs residual at 20 and 56 layers, 3 seeds, best of a widened rate grid (override with
#    HFX_GPU_DEGRADATION_CMD; with the CIFAR-10 python batches add --set data=cifar10 --set data_dir=PATH)
deg_cmd=${HFX_GPU_DEGRADATION_CMD:-"$py -m hfx run degradation --set model=cnn --set device=cuda --set depths=20,56 \
  --set norms=batch --set epochs=30 --set plateau_window=5 --set plateau_tolerance=0.02 --set widen=1 --seeds 3 \
  --out $out/degradation-cnn"}
timeout 90 bash -c "$deg_cmd" 2>&1 | tee "$out/degradation_cuda.txt" || echo "gpu.sh: the degradation run stopped early"
echo "gpu.sh: done; outputs in $out"
