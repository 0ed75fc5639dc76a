#!/usr/bin/env bash
# The whole GPU check in one command, on a Linux x86-64 machine with an NVIDIA GPU and no Node.js
# or network: unpacks the bundle made by pack.sh, makes the random models with `gpt2-lab
# make-model`, checks our logits and greedy tokens against Python transformers (if installed),
# and runs the benchmark on WebGPU (gpt2 fp32; gpt2-xl fp16), on CUDA if its provider loads, and on
# the CPU. Results go to $OUT (default ./gpu-results): log.txt, transformers-check.txt, one .md per
# benchmark and results-json.tar.gz. A failed step is logged and the next one still runs; every
# step is cut short so that the whole run ends within $DEADLINE seconds (default 420).
# Usage: bash build/gpu-bundle/run.sh [--cpu-only] [--quick]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$PWD/gpu-results}
DEADLINE=${DEADLINE:-420}
mkdir -p "$OUT"
work=${GPT2_LAB_GPU_WORK:-/tmp/gpt2-lab-gpu}
cpu_only=0
rounds=3
for arg in "$@"; do
  case $arg in
    --cpu-only) cpu_only=1 ;;
    --quick) rounds=1 ;;
  esac
done
log="$OUT/log.txt"
: >"$log"
say() { echo "$*" | tee -a "$log"; }
started=$(date +%s)
left() { echo $((DEADLINE - ($(date +%s) - started))); }
# step NAME SECONDS COMMAND...: runs within min(SECONDS, time left), logs output and exit status.
step() {
  local name=$1 limit=$2
  shift 2
  local remaining t0 rc
  remaining=$(left)
  if [ "$remaining" -lt 15 ]; then
    say "== $name: skipped, the $DEADLINE s budget is spent"
    return 1
  fi
  [ "$limit" -gt "$remaining" ] && limit=$remaining
  t0=$(date +%s)
  say "== $name (limit $limit s)"
  timeout "$limit" "$@" >>"$log" 2>&1
  rc=$?
  say "== $name: exit $rc after $(($(date +%s) - t0)) s (total $(($(date +%s) - started)) s)"
  return $rc
}

say "== unpacking into $work"
rm -rf "$work"
mkdir -p "$work"
xz -dc "$here/node.xz" >"$work/node" && chmod +x "$work/node"
tar -xJf "$here/app.tar.xz" -C "$work"
export PATH="$work:$PATH" GPT2_LAB_CACHE="$work/cache" HF_HUB_OFFLINE=1
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
app="$work/gpt2-lab"
cli="$app/bin/gpt2-lab.js"
bench="$app/dist/bench/generate.js"
models="$work/models"
cd "$app"

{
  echo "== machine"
  node --version
  nproc
  free -g | head -2
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 | head -3
  echo "vulkan loader: $(ldconfig -p | grep -c 'libvulkan.so.1') entries; VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}"
  node -e 'require("./dist/lib/model/device").chooseDevice("auto").then((c) => console.log("auto device:", JSON.stringify(c)))'
  for d in webgpu cuda; do node -e "require('./dist/lib/model/device').chooseDevice('$d').then(() => console.log('$d: available'), (e) => console.log('$d:', e.message))"; done
} >>"$log" 2>&1

step "make-model tiny and gpt2" 120 bash -c "node '$cli' make-model --shape tiny --seed 7 --out '$models/tiny' && node '$cli' make-model --shape gpt2 --seed 0 --out '$models/gpt2'"
xl=""
if [ "$cpu_only" = 0 ]; then
  # gpt2-xl's 1.5 billion random weights take minutes to draw on one core: start now, in the background.
  (timeout "$(left)" node "$cli" make-model --shape gpt2-xl --seed 0 --out "$models/gpt2-xl" >"$work/make-xl.log" 2>&1
    echo $? >"$work/make-xl.rc") &
  xl=$!
fi
if command -v python3 >/dev/null && python3 -c 'import torch, transformers' 2>/dev/null; then
  step "transformers check" 180 bash -c "python3 '$here/check_transformers.py' '$work/node' '$cli' '$models/tiny' '$models/gpt2' | tee '$OUT/transformers-check.txt'"
else
  say "== transformers check skipped: python3 with torch and transformers not found"
fi
if [ "$cpu_only" = 0 ]; then
  step "benchmark webgpu, gpt2 fp32" 150 node --expose-gc "$bench" --device webgpu --shape gpt2 --dtypes fp32 --rounds "$rounds" --work "$models" --out "$OUT/webgpu-gpt2.md"
  step "benchmark cuda, gpt2 fp32" 60 node --expose-gc "$bench" --device cuda --shape gpt2 --dtypes fp32 --rounds "$rounds" --quick --work "$models" --out "$OUT/cuda-gpt2.md"
  say "== waiting for make-model gpt2-xl"
  wait "$xl"
  cat "$work/make-xl.log" >>"$log"
  say "== make-model gpt2-xl: exit $(cat "$work/make-xl.rc" 2>/dev/null || echo '?') (total $(($(date +%s) - started)) s)"
  step "benchmark webgpu, gpt2-xl fp16" 180 node --expose-gc "$bench" --device webgpu --shape gpt2-xl --dtypes fp16 --rounds "$rounds" --quick --no-footprints --work "$models" --out "$OUT/webgpu-gpt2-xl-fp16.md"
fi
step "benchmark cpu, gpt2 fp32 + int8" 150 node --expose-gc "$bench" --device cpu --shape gpt2 --rounds "$rounds" --quick --work "$models" --out "$OUT/cpu-gpt2.md"
(cd "$OUT" && ls ./*.json >/dev/null 2>&1 && tar -czf results-json.tar.gz ./*.json && rm -f ./*.json)
say "== done in $(($(date +%s) - started)) s; results in $OUT: $(ls "$OUT" | tr '\n' ' ')"
