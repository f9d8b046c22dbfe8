#!/usr/bin/env bash
# One GPU lease, start to end: the GPU check, then the `gpu-budget` config trained until the lease ends.
#
#   bash scripts/gpu_lease.sh OUT_DIR SECONDS [RUN_DIR]
#   CONFIG=hifigan2-gpu-budget bash scripts/gpu_lease.sh OUT_DIR SECONDS     # HiFi-GAN-2 at the same budget
#   MAX_STEPS=N bash scripts/gpu_lease.sh ...    # also stop after N generator steps in this lease
#   TRAIN_ARGS="--set data.speed_range=[0.85,1.15]" bash scripts/gpu_lease.sh ...   # more arguments for `train`
#
# SECONDS is the whole script's wall time: what the check leaves of it, less a minute spare
# (start-up, the last validation, checkpoint and exit), goes to training. With RUN_DIR (an earlier lease's
# run, carried along) it skips the check and resumes that run into OUT_DIR/run instead.
#
# Prepare on the CPU machine first (git ignores all three):
#   python scripts/gpu_check.py --prepare       # data/cache/gpu_pairs.pt, the check's training pairs (4 MiB)
#   bash scripts/gpu_wheels.sh                  # .whl/, the audio libraries the GPU machine lacks (3.4 MiB)
#   python -c "from hifigan_edu.data.simulate import RIRBank; RIRBank('train', 64); RIRBank('valid', 64)"
# and carry .whl, data/cache/gpu_pairs.pt and the two room caches data/cache/rirs-{train,valid}-64-seed0-KEY.npz
# (11.9 MiB; KEY is `RIRBank.key(distance, drr_range)` of the config's data.distance_range and data.drr_range, older keys' caches may lie beside them). A resume carries .whl and RUN_DIR's checkpoint.pt and metrics.csv instead: with the
# tracked tree (37.7 MiB) the rooms would leave under 2 MiB of the 64 MiB a lease carries, so `train` simulates
# them there, inside its minutes.
# Everything lands in OUT_DIR as it happens (the run's checkpoints too), so a lease cut short
# still returns the check's output and the last checkpoint.
set -uo pipefail
usage="usage: gpu_lease.sh OUT_DIR SECONDS [RUN_DIR]"
out=$(realpath -m "${1:?$usage}")
budget=${2:?$usage}
config=${CONFIG:-gpu-budget}
resume=${3:+$(realpath -m "$3")}
[[ $budget =~ ^[0-9]+$ ]] || { echo "SECONDS must be a whole number of seconds; $usage" >&2; exit 2; }
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1 TQDM_MININTERVAL=10 PYTHONPATH=.
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  PYTHONPATH=/tmp/site:.
fi
mkdir -p "$out/run"
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; nproc; python3 -c "import torch; print('torch', torch.__version__)"; } 2>&1 | tee "$out/device.txt"
python3 -c "import sys, torch; sys.exit(not torch.cuda.is_available())" || { echo "no CUDA GPU here: not training" >&2; exit 1; }
if [ -n "$resume" ]; then
  [ "$resume" = "$out/run" ] || cp "$resume/checkpoint.pt" "$resume/metrics.csv" "$out/run/" || exit 1
else
  timeout 170 python3 scripts/gpu_check.py --steps 20 2>&1 | tee "$out/gpu_check.txt"
fi
left=$((budget - SECONDS - 60))  # a minute spare: start-up, the last validation, checkpoint and exit
[ "$left" -ge 30 ] || { echo "only $left s left for training: stopping" >&2; exit 1; }
minutes=$(python3 -c "print($left / 60)")
read -r -a extra <<<"${TRAIN_ARGS:-}"  # split on spaces only: no glob expansion of [...]
echo "training $config for $minutes min"
python3 -m hifigan_edu train --config "$config" --run-dir "$out/run" ${resume:+--resume} ${MAX_STEPS:+--max-steps "$MAX_STEPS"} --max-minutes "$minutes" "${extra[@]}" >"$out/train.log" 2>&1
status=$?
tail -n 3 "$out/train.log"
exit $status
