#!/usr/bin/env bash
# GRPO on click_bell from a tiny discrete-head SFT checkpoint, on a CPU: clean expert demos ->
# discrete SFT -> GRPO (SimpleVLA-RL's recipe) -> greedy evaluation before and after on held-out
# expert-solvable seeds (clean, and the Sim-OOD suite), compared with Barnard's test.
# Results of a run are in docs/grpo.md.
#
#   benchmarks/grpo_click_bell.sh [generate|sft|grpo|eval|all]   (default: all)
#
# Everything is written under $OUT (default /tmp/grpo_bench); every stage resumes.
# Rendering: the head camera at 96 px, shadows off, no MSAA, for demos, rollouts and evaluation
# alike (the policy must see what it was trained on).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.venv/bin"
OUT="${OUT:-/tmp/grpo_bench}"
STAGE="${1:-all}"

DEMOS="${DEMOS:-80}"          # SFT demos, seeds 0, 1, ...: few enough that SFT leaves room for RL
SFT_STEPS="${SFT_STEPS:-3000}"
GRPO_STEPS="${GRPO_STEPS:-20}"
GROUP=8                       # G
PROMPTS="${PROMPTS:-4}"       # P: kept groups per update
ENVS="${ENVS:-8}"             # E: environments stepped together
LR="${LR:-2e-5}"
EVAL_EPISODES="${EVAL_EPISODES:-100}"
EVAL_SEED=2000000             # held out: disjoint from the demos (0..) and the prompts (1000000..)
TRAIN_SEED=1000000

export OMP_WAIT_POLICY=PASSIVE  # see benchmarks/vla_click_bell.sh
mkdir -p "$OUT"
RENDER=(--no-shadows --msaa 0)

generate() {
    "$BIN/sim2real" generate --task click_bell --episodes "$DEMOS" --seed 0 --workers 2 \
        --cameras head --image-size 96x96 "${RENDER[@]}" --out "$OUT/demos"
}

sft() {
    "$BIN/sim2real" train sft --data "$OUT/demos" --head discrete --cameras head --steps "$SFT_STEPS" \
        --batch-size 32 --out "$OUT/sft.pt" --resume --json | tee "$OUT/sft.json"
}

grpo() {
    /usr/bin/time -v "$BIN/sim2real" train grpo --init "$OUT/sft.pt" --task click_bell "${RENDER[@]}" \
        --group-size "$GROUP" --prompts-per-step "$PROMPTS" --steps "$GRPO_STEPS" --temperature 1.6 \
        --clip-low 0.2 --clip-high 0.28 --learning-rate "$LR" --envs "$ENVS" --eval-every 0 \
        --eval-episodes "$EVAL_EPISODES" --train-seed "$TRAIN_SEED" --eval-seed "$EVAL_SEED" \
        --out "$OUT/grpo.pt" --resume --json 2> "$OUT/grpo.stderr" | tee "$OUT/grpo.json"
}

evaluate() {
    for name in sft grpo; do
        "$BIN/sim2real" eval --policy "$OUT/$name.pt" --label "$name" --task click_bell "${RENDER[@]}" \
            --episodes "$EVAL_EPISODES" --seed "$EVAL_SEED" --envs "$ENVS" --no-videos \
            --out "$OUT/eval_$name" --json > "$OUT/eval_$name.json"
        "$BIN/sim2real" eval --policy "$OUT/$name.pt" --label "$name" --task click_bell "${RENDER[@]}" \
            --suite sim-ood --episodes 20 --seed "$EVAL_SEED" --envs "$ENVS" --no-videos \
            --out "$OUT/ood_$name" --json > "$OUT/ood_$name.json"
    done
    "$BIN/sim2real" compare "$OUT/eval_sft" "$OUT/eval_grpo"
    "$BIN/sim2real" compare "$OUT/ood_sft" "$OUT/ood_grpo"
}

case "$STAGE" in
    generate) generate ;;
    sft) sft ;;
    grpo) grpo ;;
    eval) evaluate ;;
    all) generate; sft; grpo; evaluate ;;
    *) echo "unknown stage $STAGE (generate, sft, grpo, eval, all)" >&2; exit 2 ;;
esac
