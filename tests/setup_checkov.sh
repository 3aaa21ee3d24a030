#!/usr/bin/env bash
# Creates .venv-checkov-<version> at the repository root for each checkov version the rules are tested
# against. checkov must not share an environment with python-hcl2 (both install a top-level `hcl2`), so
# each gets its own venv. Idempotent and quiet: does nothing when a version is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSIONS=("$@")
[ ${#VERSIONS[@]} -gt 0 ] || VERSIONS=(3.3.30 3.2.500)

installed() {
  "$1/bin/python" - "$2" <<'PY' 2>/dev/null
import sys
from importlib.metadata import PackageNotFoundError, version
try:
    sys.exit(0 if version("checkov") == sys.argv[1] else 1)
except PackageNotFoundError:
    sys.exit(1)
PY
}

for version in "${VERSIONS[@]}"; do
  venv=".venv-checkov-$version"
  if [ -x "$venv/bin/checkov" ] && installed "$venv" "$version"; then
    continue
  fi
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  # checkov caps `packaging`; a newer pytest-era packaging breaks it, so pin what it was released with.
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "checkov==$version"
  installed "$venv" "$version" || { echo "setup_checkov.sh: checkov $version did not install into $venv" >&2; exit 1; }
done
