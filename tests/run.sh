#!/usr/bin/env bash
# Runs the checks and the tests: bash tests/run.sh [--install-system] [--system-only] [pytest args]
#
# Some tests use Debian packages (shellcheck, bubblewrap, git, systemd, cloud-init). They are installed only
# under CI=true (CI starts from a clean Debian machine), with EKSPROXY_GEN_INSTALL_SYSTEM=1 or with
# --install-system, and the script says which ones and why before it installs anything. Elsewhere it lists the
# tests that will skip for lack of each tool; those tests skip with that reason, and under CI=true they fail.
# --system-only stops after that step. Used as-is by .ci/run (through README.md) and by developers.
set -euo pipefail
cd "$(dirname "$0")/.."

install_system=no
case "${CI:-}" in true | TRUE | True | 1 | yes) install_system=yes ;; esac
[ "${EKSPROXY_GEN_INSTALL_SYSTEM:-}" != 1 ] || install_system=yes
system_only=no
while [ $# -gt 0 ]; do
  case "$1" in
    --install-system) install_system=yes; shift ;;
    --system-only) system_only=yes; shift ;;
    *) break ;;
  esac
done

has_python() {  # where tests/test_install.py looks: pyenv's versions, then PATH (a pyenv shim may refuse to run)
  compgen -G "$HOME/.pyenv/versions/$1.*/bin/python$1" >/dev/null && return 0
  "python$1" -c '' >/dev/null 2>&1
}

# One line per Debian package: package|is it there (a shell test)|why the tests need it|the tests that need it
SYSTEM_PACKAGES=(
  "python3-venv|python3 -c 'import ensurepip, venv'|creates .venv and the checkov venvs|nothing runs without it"
  "git|command -v git|pre-commit and installs from git|tests/test_precommit.py, tests/test_install.py, tests/test_release.py"
  "shellcheck|command -v shellcheck|lints the generated shell parts and the Action's steps|tests/test_generated_parts.py, tests/test_action.py"
  "bubblewrap|command -v bwrap|runs the generated scripts in a sandbox, and writes on a full or read-only disk|tests/test_families.py, tests/test_karpenter.py, tests/test_userdata.py, tests/test_refusals.py"
  "systemd|command -v systemd-analyze|verifies the Amazon Linux 2 drop-ins with systemd-analyze|tests/test_userdata.py"
  "cloud-init|/usr/bin/python3 -c 'import cloudinit'|splits the MIME user data as cloud-init does on a node|tests/test_userdata.py"
)
# Tools no Debian package gives: listed when absent, never installed here.
OTHER_TOOLS=(
  "terraform|command -v terraform|its fmt is the formatting oracle; HashiCorp ships it, Debian does not|tests/test_fix.py, tests/test_families.py, tests/test_karpenter.py, tests/test_invariants.py"
  "Python 3.12|has_python 3.12|a supported Python the wheel is installed on|tests/test_install.py"
  "Python 3.13|has_python 3.13|a supported Python the wheel is installed on|tests/test_install.py"
  "Python 3.10|has_python 3.10|the unsupported Python an install must refuse|tests/test_install.py"
)

missing=()
for entry in "${SYSTEM_PACKAGES[@]}"; do
  IFS='|' read -r package probe _ _ <<<"$entry"
  eval "$probe" >/dev/null 2>&1 || missing+=("$entry")
done

if ((${#missing[@]})); then
  if [ "$install_system" = yes ]; then
    echo "tests/run.sh: installing these Debian packages with apt-get:"
  else
    echo "tests/run.sh: these Debian packages are missing (install them with EKSPROXY_GEN_INSTALL_SYSTEM=1 bash tests/run.sh,"
    echo "or with apt-get yourself); until then the tests named with each skip, saying why:"
  fi
  packages=()
  for entry in "${missing[@]}"; do
    IFS='|' read -r package _ why tests <<<"$entry"
    packages+=("$package")
    echo "  $package: $why (${tests})"
  done
  if [ "$install_system" = yes ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    # cloud-init's package would start services on a real system; only its Python package is used here.
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  fi
fi

for entry in "${OTHER_TOOLS[@]}"; do
  IFS='|' read -r name probe why tests <<<"$entry"
  if ! eval "$probe" >/dev/null 2>&1; then
    echo "tests/run.sh: $name is not installed ($why): these tests skip, and fail under CI=true: $tests"
  fi
done

[ "$system_only" = no ] || exit 0

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
