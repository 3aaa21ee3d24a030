#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine, then runs the checks and the tests.
# Used as-is by .ci/run (through README.md) and by developers: bash tests/run.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

apt_needs=()
command -v shellcheck >/dev/null 2>&1 || apt_needs+=(shellcheck)
command -v bwrap >/dev/null 2>&1 || apt_needs+=(bubblewrap)
command -v git >/dev/null 2>&1 || apt_needs+=(git)
command -v systemd-analyze >/dev/null 2>&1 || apt_needs+=(systemd)
python3 -c "import sys; sys.path.insert(0, '/usr/lib/python3/dist-packages'); import cloudinit" 2>/dev/null \
  || apt_needs+=(cloud-init)
if ((${#apt_needs[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  # cloud-init's package would start services on a real system; only its Python package is used here.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${apt_needs[@]}" >/dev/null
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q -e '.[test]'

# checkov cannot share an environment with python-hcl2: each tested version gets its own venv.
bash tests/setup_checkov.sh 3.3.30 3.2.500

.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
.venv/bin/coverage erase
.venv/bin/coverage run -m pytest "$@"
.venv/bin/coverage combine -q
.venv/bin/coverage report
