# The two commands of the README: `make demo` (main job on a small default) and `make test`.
# Both install what they need first (apt packages, a virtual environment, the package) and are
# safe to re-run: the install step is skipped while its inputs are unchanged.
VENV    ?= .venv
PYTHON  := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
OUT     ?= out
export MUJOCO_GL ?= egl

.PHONY: setup demo test bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh $(VENV)
	touch $(STAMP)

demo: setup
	$(VENV)/bin/sim2real expert --task click_bell --episodes 3 --seed 0 --video $(OUT)
	$(VENV)/bin/sim2real render --task click_bell --seed 0 --out $(OUT)
	@echo "demo outputs are in $(OUT)/"

test: setup
	$(PYTHON) -m pytest -q -n 2

bench: setup
	$(VENV)/bin/sim2real bench env

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
