# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
APT_PKGS := dovecot-imapd dovecot-core

.PHONY: demo test lint typecheck pytest system-deps install bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,demo]'
	touch $(STAMP)

install: $(STAMP)

# Debian packages the tests need (Dovecot for the IMAP peer). Installed only when missing.
system-deps:
	@missing=""; for p in $(APT_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" \
	    || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $$missing >/dev/null; \
	fi

demo: $(STAMP) system-deps
	$(BIN)/domovoy demo

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy bot intake workflow domovoy tests bench

pytest: $(STAMP) system-deps
	$(BIN)/python -m pytest -q

test: $(STAMP) system-deps lint typecheck pytest

bench: $(STAMP) system-deps
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/deadlines.py
	$(BIN)/python bench/email.py
	$(BIN)/python bench/triage.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
