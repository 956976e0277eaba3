# The two commands of the README: `make demo` (main job on a small default) and `make test`.
# Both install what they need first (apt packages, a virtual environment, the package) and are
# safe to re-run: the install step is skipped while its inputs are unchanged.
VENV    ?= .venv
PYTHON  := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
OUT     ?= out
export MUJOCO_GL ?= egl

.PHONY: setup demo test bench smoke-study clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh $(VENV)
	touch $(STAMP)

# The demo: a small frame-wise randomized dataset (validated and summarised), a contact sheet of
# randomized scenes, an expert video, and one state at the three rendering fidelities and at full vs
# policy mesh detail (96 and 224 px).
demo: setup
	$(VENV)/bin/sim2real generate --task click_bell --episodes 4 --randomize TH+CP+BG \
		--granularity frame --fidelity low --image-size 320x240 --out $(OUT)/dataset
	$(VENV)/bin/sim2real dataset validate $(OUT)/dataset
	$(VENV)/bin/sim2real dataset info $(OUT)/dataset
	$(VENV)/bin/sim2real render --task click_bell --randomize TH+CP+BG --grid 2x3 --out $(OUT)
	$(VENV)/bin/sim2real expert --task click_bell --episodes 1 --seed 0 --video $(OUT)
	$(VENV)/bin/sim2real render --task click_bell --seed 0 --fidelity low,medium,high --mesh-detail-compare \
		--out $(OUT)
	@echo "demo outputs are in $(OUT)/: dataset/, *_grid*.png (contact sheet), *.mp4, *_fidelity.png, *_mesh_detail.png"

test: setup
	$(PYTHON) -m pytest -q -n 2 --dist loadgroup

# The factor-study pipeline (generate, train, evaluate every cell, report) at a 2-core machine's
# size; resumable: run it again after an interruption (docs/study.md).
smoke-study: setup
	$(VENV)/bin/sim2real study run configs/studies/smoke.yaml --dir $(OUT)/studies/smoke
	$(VENV)/bin/sim2real study report configs/studies/smoke.yaml --dir $(OUT)/studies/smoke \
		--out $(OUT)/studies/smoke-report
	@echo "the smoke study's report is $(OUT)/studies/smoke-report/report.html (and report.md)"

bench: setup
	$(VENV)/bin/sim2real bench env

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
