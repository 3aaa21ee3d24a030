#!/usr/bin/env bash
# Creates .venv-checkov at the repository root with the pinned checkov the rules are tested against.
# checkov must not share an environment with python-hcl2 (both install a top-level `hcl2`), so it
# gets its own venv. Idempotent and quiet: does nothing when the pinned version is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKOV_VERSION=3.3.30
venv=.venv-checkov

installed() {
  "$venv/bin/python" - "$CHECKOV_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import PackageNotFoundError, version
try:
    sys.exit(0 if version("checkov") == sys.argv[1] else 1)
except PackageNotFoundError:
    sys.exit(1)
PY
}

if [ -x "$venv/bin/checkov" ] && installed; then
  exit 0
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check "checkov==$CHECKOV_VERSION"
installed || { echo "setup_checkov.sh: checkov $CHECKOV_VERSION did not install into $venv" >&2; exit 1; }
