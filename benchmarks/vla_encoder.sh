#!/usr/bin/env bash
# Pretrained vs from-scratch image encoder for the reference VLA on $TASK, on a CPU: the
# same clean expert demos seen through the paper's head camera (4:3, resized to 128 x 128), the
# same trunk, head, steps and learning rate; only the encoder differs:
#   lite    --encoder efficientnet-lite0 (ImageNet weights, stages 0-3 frozen and cached, FiLM
#           on stages 4-5)
#   scratch --encoder resnet (the tiny preset's from-scratch residual CNN)
# then closed-loop clean success on held-out expert-solvable seeds, the Sim-OOD suite, and
# latency per chunk. Results are in docs/vla_encoder.md.
#
#   benchmarks/vla_encoder.sh [generate|train|eval|ood|latency|all]   (default: all)
#   TASK=place_empty_cup ENCODERS=lite HEADS="continuous discrete" benchmarks/vla_encoder.sh
#   TASK=multitask STEPS=5000 ENCODERS=lite benchmarks/vla_encoder.sh   # one policy over $TASKS
#
# TASK=multitask trains one policy on every task's demos (each with its own instructions; the
# folders and feature caches are the per-task runs', generated if missing) and evaluates it on
# each task in turn.
#
# Everything is written under $OUT (default /tmp/vla_encoder). Each stage is resumable: generation
# resumes, training runs with --resume, the feature cache is built once per dataset.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN:-$ROOT/.venv/bin}"
OUT="${OUT:-/tmp/vla_encoder}"
STAGE="${1:-all}"

TASK="${TASK:-click_bell}"       # any registered task (one policy per task, as the paper) or multitask
TASKS="${TASKS:-click_bell beat_block_hammer pick_dual_bottles place_empty_cup stack_bowls_two}"
EPISODES="${EPISODES:-100}"      # training demos, seeds 0, 1, ...
IMAGE=128                        # the model's square input
RENDER_SIZE=171x128              # the head camera's 4:3 view at the input's height
STEPS="${STEPS:-2000}"
BATCH=32
LR=1e-3
EVAL_EPISODES="${EVAL_EPISODES:-50}"
OOD_EPISODES="${OOD_EPISODES:-20}"  # per Sim-OOD factor
EVAL_SEED=1000                   # disjoint from the training seeds
ENCODERS="${ENCODERS:-lite scratch}"
HEADS="${HEADS:-continuous}"     # continuous (L1) and/or discrete (256 bins, GRPO's)
FEATURE_VIEWS="${FEATURE_VIEWS:-4}"  # lite: cached views per frame (1 = no augmentation, 4x faster cache)
CAMERAS="${CAMERAS:-head}"       # or head,left_wrist,right_wrist (the comparison row)

# A shared CPU: low priority, and OpenMP threads that sleep instead of spinning on busy cores.
export OMP_WAIT_POLICY=PASSIVE
NICE=(nice -n 10)

# A task's demos live in $OUT/<task>/data whichever policy trains on them.
if [[ "$TASK" == multitask ]]; then read -r -a DATA_TASKS <<< "$TASKS"; else DATA_TASKS=("$TASK"); fi
DATA=()
for task in "${DATA_TASKS[@]}"; do DATA+=(--data "$OUT/$task/data"); done
OUT="$OUT/$TASK"
mkdir -p "$OUT"
RENDER=(--image-size "$RENDER_SIZE" --no-shadows --msaa 0 --fidelity low --randomize clean)
MODEL=(--model tiny --cameras "$CAMERAS" --image-size "$IMAGE" --camera-aspect 4:3
       --steps "$STEPS" --batch-size "$BATCH" --learning-rate "$LR" --warmup-steps 100
       --checkpoint-every 250 --resume)

encoder_flags() {
    case "$1" in
        lite) echo "--encoder efficientnet-lite0 --frozen-stages 4 --feature-views $FEATURE_VIEWS" ;;
        scratch) echo "--encoder resnet" ;;
        *) echo "unknown encoder $1 (lite, scratch)" >&2; exit 2 ;;
    esac
}

generate() {
    local task data
    for task in "${DATA_TASKS[@]}"; do
        data="$(dirname "$OUT")/$task/data"
        "${NICE[@]}" "$BIN/sim2real" generate --task "$task" --episodes "$EPISODES" --seed 0 --workers 1 \
            --cameras "$CAMERAS" "${RENDER[@]}" --out "$data"
        "$BIN/sim2real" dataset validate "$data"
    done
}

# Where policy $1's results on $2 go: eval-lite.json for a task's own policy, eval-lite-$task.json
# for the multi-task one.
result_name() {
    if [[ "$TASK" == multitask ]]; then echo "$1-$2"; else echo "$1"; fi
}

# Every trained policy, encoder x head: lite, lite-discrete, scratch, ...
policies() {
    for name in $ENCODERS; do
        for head in $HEADS; do
            case "$head" in
                continuous) echo "$name" ;;
                discrete) echo "$name-discrete" ;;
                *) echo "unknown head $head (continuous, discrete)" >&2; exit 2 ;;
            esac
        done
    done
}

train() {
    for policy in $(policies); do
        local name="${policy%-discrete}" head=continuous
        [[ "$policy" == *-discrete ]] && head=discrete
        # shellcheck disable=SC2046
        "${NICE[@]}" /usr/bin/time -v "$BIN/sim2real" train sft "${DATA[@]}" "${MODEL[@]}" \
            --head "$head" $(encoder_flags "$name") --out "$OUT/$policy.pt" --json \
            2> "$OUT/$policy.train.stderr" | tee "$OUT/$policy.train.json"
    done
}

evaluate() {
    local policy task name
    for policy in $(policies); do
        for task in "${DATA_TASKS[@]}"; do
            name="$(result_name "$policy" "$task")"
            "${NICE[@]}" "$BIN/sim2real" eval --policy "$OUT/$policy.pt" --label "$policy" --task "$task" \
                --episodes "$EVAL_EPISODES" --seed "$EVAL_SEED" --no-videos "${RENDER[@]}" \
                --out "$OUT/eval-$name" --json | tee "$OUT/eval-$name.json"
        done
    done
}

ood() {
    local policy task name
    for policy in $(policies); do
        for task in "${DATA_TASKS[@]}"; do
            name="$(result_name "$policy" "$task")"
            "${NICE[@]}" "$BIN/sim2real" eval --policy "$OUT/$policy.pt" --label "$policy" --task "$task" \
                --suite sim-ood --episodes "$OOD_EPISODES" --seed "$EVAL_SEED" --no-videos \
                --image-size "$RENDER_SIZE" --no-shadows --msaa 0 --fidelity low \
                --out "$OUT/ood-$name" --json | tee "$OUT/ood-$name.json"
        done
    done
}

latency() {
    # The bench's random-weight presets: the new default and today's recipe, on one thread
    # pair as everything above.
    "$BIN/sim2real" bench policy --model tiny --encoder efficientnet-lite0 --cameras head \
        --image-size "$IMAGE" --camera-aspect 4:3 --device cpu --iterations 30 --json | tee "$OUT/latency-lite.json"
    "$BIN/sim2real" bench policy --model tiny --encoder efficientnet-lite0 --cameras head \
        --image-size 224 --camera-aspect 4:3 --device cpu --iterations 30 --json | tee "$OUT/latency-lite224.json"
    "$BIN/sim2real" bench policy --model tiny --encoder resnet --cameras head \
        --image-size "$IMAGE" --camera-aspect 4:3 --device cpu --iterations 30 --json | tee "$OUT/latency-scratch.json"
    "$BIN/sim2real" bench policy --model tiny --device cpu --iterations 30 --json | tee "$OUT/latency-tiny3.json"
}

STAGES=(generate train evaluate ood latency)
case "$STAGE" in
    all) for stage in "${STAGES[@]}"; do "$stage"; done ;;
    eval) evaluate ;;
    generate | train | ood | latency) "$STAGE" ;;
    *) echo "unknown stage $STAGE (generate, train, eval, ood, latency, all)" >&2; exit 2 ;;
esac
