#!/usr/bin/env bash
# Runs a command with a fresh moto server on a free 127.0.0.1 port, and stops the server when
# the command ends — however it ends. The command sees the server as SWITCHYARD_TEST_MOTO
# (and SWITCHYARD_REQUIRE_MOTO=1, so the AWS suites fail rather than skip without it).
#   infra/dev/with-moto.sh cargo test ...
set -euo pipefail
cd "$(dirname "$0")/../.."

port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=target/moto.log
mkdir -p target
# moto_server with SQS's queue operations made atomic (moto_server.py says why).
.venv/bin/python infra/dev/moto_server.py -H 127.0.0.1 -p "$port" > "$log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null; wait "$moto_pid" 2>/dev/null || true' EXIT

endpoint="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "$endpoint/moto-api/"; then
        break
    fi
    kill -0 "$moto_pid" 2>/dev/null || { echo "moto_server exited; see $log" >&2; exit 1; }
    sleep 0.1
done
curl -fsS -o /dev/null "$endpoint/moto-api/" || { echo "moto_server did not answer; see $log" >&2; exit 1; }
echo "with-moto: moto_server on $endpoint (pid $moto_pid)"

export SWITCHYARD_TEST_MOTO="$endpoint" SWITCHYARD_REQUIRE_MOTO=1
"$@"
