#!/usr/bin/env bash
# Run the test suite beside a one-core CPU burner, as on a laptop busy with other work, and say how long it took.
#
#   scripts/busy-test.sh                         # CI=true make test, beside the burner
#   scripts/busy-test.sh .venv/bin/python -m pytest -q tests/test_lab.py    # any command instead
#
# The burner is a plain Python busy loop at normal priority, started first and killed on any exit
# (success, failure, Ctrl-C). The exit status is the command's.
set -uo pipefail
cd "$(dirname "$0")/.."

python3 -c 'while True: pass' &
burner=$!
trap 'kill "$burner" 2>/dev/null; wait "$burner" 2>/dev/null' EXIT
trap 'exit 130' INT TERM

if [ "$#" -eq 0 ]; then
  set -- make test
fi
echo "busy-test: $* beside a one-core CPU burner (pid $burner) on $(nproc) cores" >&2
start=$(date +%s)
CI=true "$@"
status=$?
took=$(( $(date +%s) - start ))
verdict=$([ "$status" -eq 0 ] && echo passed || echo "FAILED (exit $status)")
printf 'busy-test: %s in %dm%02ds beside a one-core CPU burner\n' "$verdict" $((took / 60)) $((took % 60)) >&2
exit "$status"
