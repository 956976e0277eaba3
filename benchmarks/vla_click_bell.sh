#!/usr/bin/env bash
# The `tiny` reference VLA on click_bell, end to end on a CPU: 100 clean expert demos -> SFT ->
# closed-loop evaluation on 50 unseen expert-solvable seeds -> latency per action chunk.
# Results of a run are in docs/pipeline.md ("Measured: tiny on click_bell").
#
#   benchmarks/vla_click_bell.sh [generate|train|eval|latency|all]   (default: all)
#
# Everything is written under $OUT (default /tmp/vla_bench). Every stage is resumable/idempotent:
# generation resumes, training with --resume continues from the checkpoint.
#
# Rendering: shadows off and no MSAA, for the demos *and* the evaluation (they must match). With
# Mesa's software rasterizer the shadow map costs ~9x a 96 px frame (measured here: 0.94 s vs
# 0.11 s per control step with three cameras), which would make a 50-episode evaluation take
# hours.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.venv/bin"
OUT="${OUT:-/tmp/vla_bench}"
STAGE="${1:-all}"

EPISODES=100          # training demos, seeds 0, 1, ... (failed expert seeds are skipped)
IMAGE=96              # the tiny preset's input: render square at it, so nothing is resized
STEPS="${STEPS:-4000}"   # override from the environment, e.g. to resume a run further
BATCH=32
LR=1e-3              # a 1.9 M-parameter model trained for few steps: a higher peak rate than 3e-4
EVAL_EPISODES=50
EVAL_SEED=1000        # disjoint from the training seeds
EXECUTE=25            # actions executed of each K=25 chunk before re-planning (eval default: all)

# On a shared CPU, OpenMP's spinning threads wait on descheduled peers: one training step of
# tiny at batch 32 took 11.5 s with the default policy and 1.4 s with PASSIVE (2 threads).
export OMP_WAIT_POLICY=PASSIVE

mkdir -p "$OUT"

RENDER=(--image-size "${IMAGE}x$IMAGE" --no-shadows --msaa 0 --fidelity low --randomize clean)

generate() {
    "$BIN/sim2real" generate --task click_bell --episodes "$EPISODES" --seed 0 --workers 1 \
        "${RENDER[@]}" --out "$OUT/data"
    "$BIN/sim2real" dataset validate "$OUT/data"
}

train() {
    /usr/bin/time -v "$BIN/sim2real" train sft --data "$OUT/data" --model tiny --head continuous \
        --steps "$STEPS" --batch-size "$BATCH" --learning-rate "$LR" --checkpoint-every 250 --resume \
        --out "$OUT/tiny.pt" --json 2> "$OUT/train.stderr" | tee "$OUT/train.json"
}

evaluate() {
    "$BIN/sim2real" eval --policy "$OUT/tiny.pt" --label tiny-sft --task click_bell \
        --episodes "$EVAL_EPISODES" --seed "$EVAL_SEED" --execute "$EXECUTE" --no-videos \
        "${RENDER[@]}" --out "$OUT/eval" --json | tee "$OUT/eval.json"
}

latency() {
    "$BIN/sim2real" bench policy --model tiny,base --iterations 20 --json | tee "$OUT/latency.json"
}

case "$STAGE" in
    generate) generate ;;
    train) train ;;
    eval) evaluate ;;
    latency) latency ;;
    all) generate; train; evaluate; latency ;;
    *) echo "unknown stage $STAGE (generate, train, eval, latency, all)" >&2; exit 2 ;;
esac
