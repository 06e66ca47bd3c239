#!/usr/bin/env bash
# Runs the autorelease runtime's test binaries under valgrind memcheck: any invalid access or
# definite leak fails. The model test runs fewer cases here (valgrind is ~50x slower).
set -euo pipefail
cd "$(dirname "$0")/.."

bins=$(cargo test -p autorelease --locked --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["executable"])
')
[ -n "$bins" ] || { echo "no autorelease test binaries found" >&2; exit 1; }
for bin in $bins; do
    echo "valgrind: $(basename "$bin")"
    PROPTEST_CASES=200 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        --show-leak-kinds=definite "$bin" --test-threads=2 2>&1 | grep -Ev '^$|^running|^test .* ok$'
    status=${PIPESTATUS[0]}
    [ "$status" -eq 0 ] || { echo "valgrind failed on $bin (exit $status)" >&2; exit 1; }
done
echo "valgrind: all runtime test binaries clean"
