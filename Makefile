# neurosim: everyday commands. Each target builds the local virtual environment it needs.
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
# torch first and pinned (a plain `torch` requirement pulls a multi-GB CUDA build);
# numpy<2.4 because brian2 2.9 (the newest for Python 3.11) does not import with numpy 2.4.
# spikingjelly goes in with --no-deps: its torchvision/torchaudio requirement would replace the
# CPU torch with a CUDA build (its core needs only torch and loguru, from the bridges extra).
PIN := torch==2.13.0 "numpy<2.4"

.PHONY: run test bench lint clean venv

$(BIN)/.installed: setup.cfg pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(PIN)
	$(BIN)/pip install -q "numpy<2.4" -e ".[test,peers,cli,io,torch,bridges]"
	$(BIN)/pip install -q --no-deps spikingjelly==2.0.0
	touch $@

venv: $(BIN)/.installed

run: $(BIN)/.installed        ## the main job: CUBA network, 4,000 neurons, 1 s -> HDF5 + PNG
	$(BIN)/neurosim run cuba --out results/cuba.h5 --overwrite

test: $(BIN)/.installed       ## the whole test suite + lint
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4   # xdist: one worker per core, up to 4

bench: $(BIN)/.installed      ## CUBA vs Brian2 and NEST (quick variant; drop QUICK for the full table)
	$(BIN)/python experiments/bench_cuba.py --quick --json results/bench_cuba.json

lint: $(BIN)/.installed
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) results .pytest_cache
