#!/usr/bin/env bash
# Run the background worker and the web server (gunicorn, through `crossings serve`) together;
# Ctrl-C stops both. `crossings run` remains Flask's development server, for --debug work.
# Usage: scripts/serve.sh [HOST [PORT]]   (default 127.0.0.1 5000)
set -euo pipefail
cd "$(dirname "$0")/.."

host=${1:-127.0.0.1}
port=${2:-5000}
crossings=${CROSSINGS_BIN:-.venv/bin/crossings}

groups=()
stop() {
    # Each command leads its own process group (setsid below), so signalling the
    # group also reaches what it started: the worker's ffmpeg, gunicorn's workers.
    ((${#groups[@]})) || return 0
    local pid
    for pid in "${groups[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    for _ in {1..50}; do
        kill -0 -- "${groups[@]/#/-}" 2>/dev/null || break
        sleep 0.1
    done
    for pid in "${groups[@]}"; do
        kill -KILL -- "-$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    groups=()
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Both run as background jobs and the script waits: bash runs a trap only after its
# foreground command ends, but `wait` returns as soon as a signal arrives. Ctrl-C
# reaches this script (not the new sessions), its INT trap exits, EXIT stops both.
setsid "$crossings" worker &
groups+=($!)
setsid "$crossings" serve --host "$host" --port "$port" &
server=$!
groups+=("$server")
wait "$server"
