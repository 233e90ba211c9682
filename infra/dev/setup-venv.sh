#!/usr/bin/env bash
# Creates (or brings up to date) the project's Python venv at .venv with the pinned tools the
# test suites and packaging use: every infra/dev/requirements*.txt. Idempotent and fast when
# nothing changed: a stamp of the requirements' hash skips pip entirely.
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=.venv
STAMP="$VENV/.requirements.sha256"
want=$(cat infra/dev/requirements*.txt | sha256sum | cut -d' ' -f1)

if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
    exit 0
fi

[[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
args=()
for f in infra/dev/requirements*.txt; do args+=(-r "$f"); done
"$VENV/bin/pip" install --quiet --disable-pip-version-check "${args[@]}"
echo "$want" > "$STAMP"
echo "setup-venv: $VENV ready"
