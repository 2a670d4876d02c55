#!/usr/bin/env bash
# Create the FOCUS validator's own virtual environment (default <repo>/.venv-validator) from nothing and
# install the pinned tools/focus-validator/requirements.txt into it.
#
# Why a separate venv: focus-validator 2.2.1 needs Python >= 3.12 and pyarrow < 22; the product venv is 3.11.
# Usage: tools/focus-validator/install.sh [VENV_DIR]
#   FOCUS_VALIDATOR_PYTHON=/path/to/python3.12  use this interpreter instead of looking for one
# Idempotent: does nothing when VENV_DIR was built from the same requirements.txt.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="${1:-$REPO/.venv-validator}"
REQUIREMENTS="$HERE/requirements.txt"
MARKER="$VENV/.installed"
export UV_PYTHON_DOWNLOADS=never

digest="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$digest" && -x "$VENV/bin/focus-validator" ]]; then
    echo "focus-validator venv up to date: $VENV"
    exit 0
fi

usable() {  # a Python 3.12.x that actually runs (pyenv's python3.12 shim refuses while another version is global)
    [[ -n "$1" ]] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' > /dev/null 2>&1
}

find_python() {
    local candidate
    if [[ -n "${FOCUS_VALIDATOR_PYTHON:-}" ]]; then
        usable "$FOCUS_VALIDATOR_PYTHON" && { echo "$FOCUS_VALIDATOR_PYTHON"; return 0; }
        echo "FOCUS_VALIDATOR_PYTHON=$FOCUS_VALIDATOR_PYTHON is not a working Python 3.12" >&2
        return 1
    fi
    if command -v pyenv > /dev/null 2>&1; then
        for candidate in $(ls -d "$(pyenv root)"/versions/3.12.*/bin/python3.12 2> /dev/null | sort -V -r); do
            usable "$candidate" && { echo "$candidate"; return 0; }
        done
    fi
    for candidate in python3.12 /usr/bin/python3.12 /usr/local/bin/python3.12; do
        candidate="$(command -v "$candidate" 2> /dev/null || true)"
        usable "$candidate" && { echo "$candidate"; return 0; }
    done
    return 1
}

if ! PYTHON="$(find_python)"; then
    cat >&2 << 'EOF'
error: no Python 3.12 interpreter found for the FOCUS validator (focus-validator 2.2.1 needs Python >= 3.12,
and the pinned requirements are resolved for 3.12). Install one (e.g. `pyenv install 3.12`) or point
FOCUS_VALIDATOR_PYTHON at it.
EOF
    exit 1
fi

echo "creating $VENV with $PYTHON ($("$PYTHON" -V 2>&1))"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
UV="$(command -v uv 2> /dev/null || true)"
[[ -z "$UV" && -x "$REPO/.venv/bin/uv" ]] && UV="$REPO/.venv/bin/uv"
if [[ -n "$UV" ]]; then
    "$UV" pip install --quiet --python "$VENV/bin/python" -r "$REQUIREMENTS"
else
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
fi
"$VENV/bin/focus-validator" --help > /dev/null
echo "$digest" > "$MARKER"
echo "focus-validator installed: $VENV/bin/focus-validator"
