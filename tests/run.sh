#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine, then runs it.
# Used as-is by .ci/run (through README.md) and by developers: bash tests/run.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

apt_needs=()
command -v shellcheck >/dev/null 2>&1 || apt_needs+=(shellcheck)
command -v bwrap >/dev/null 2>&1 || apt_needs+=(bubblewrap)
command -v git >/dev/null 2>&1 || apt_needs+=(git)
if ((${#apt_needs[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${apt_needs[@]}" >/dev/null
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

# checkov cannot share an environment with python-hcl2: it gets .venv-checkov.
bash tests/setup_checkov.sh 3.3.30 3.2.500

.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
