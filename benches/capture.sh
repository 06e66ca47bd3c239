#!/usr/bin/env bash
# `reel capture`'s cost on a program nobody in this project wrote: glmark2-es2's `build` scene
# (EGL on X11, Mesa llvmpipe), runs with and without capture alternating in one session, at
# 640x360 and 1280x720. Prints each run, then per size the median scores, their ratio, frames
# dropped, whether every rendered frame is in the cache, and where the capture's time goes. A
# third run per round captures with --when-behind drop: its score against the blocking run's
# shows how much of the cost is the program waiting for the writer rather than the readback.
#
#   bash benches/capture.sh [ROUNDS]     (default 5 rounds per size; about 8 s per round)
#
# CAPTURE_BENCH_READBACK=sync|pbo-ring|auto picks reel capture's --readback (default auto);
# CAPTURE_BENCH_SIZES lists the sizes (default "640x360 1280x720").
#
# Needs Xvfb (xvfb) and glmark2-es2 (glmark2-es2-x11); builds reel and the capture library in
# release mode. Caches go to a temporary directory on disk and are deleted after each run.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
duration=${CAPTURE_BENCH_SECONDS:-3}
readback=(--readback "${CAPTURE_BENCH_READBACK:-auto}")

cargo build --release --quiet -p reel -p reel-capture
reel=$PWD/target/release/reel

work=$(mktemp -d)
exec 3< <(Xvfb -displayfd 1 -screen 0 1920x1080x24 -nolisten tcp 2>/dev/null & echo "pid $!")
read -r _ xvfb_pid <&3
read -r display <&3
trap 'kill "$xvfb_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
export DISPLAY=":$display"

score() { sed -n 's/.*glmark2 Score: *\([0-9]*\).*/\1/p'; }
stat() { sed -n "s/^$1=//p" "$work/stats"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

for size in ${CAPTURE_BENCH_SIZES:-640x360 1280x720}; do
    scene=(glmark2-es2 -b "build:duration=$duration" --size "$size")
    : > "$work/plain"; : > "$work/captured"; : > "$work/rows"; : > "$work/dropping"
    for ((r = 1; r <= rounds; r++)); do
        plain=$("${scene[@]}" 2>&1 | score)
        rm -f "$work"/out*.reel
        cap=$("$reel" capture "${readback[@]}" -o "$work/out.reel" --stats-file "$work/stats" -- "${scene[@]}" 2>/dev/null | score)
        swaps=$(stat swaps); captured=$(stat captured); dropped=$(stat dropped)
        hook_ms=$(awk -v n="$(stat hook_median_ns)" 'BEGIN {printf "%.2f", n / 1e6}')
        hook95_ms=$(awk -v n="$(stat hook_p95_ns)" 'BEGIN {printf "%.2f", n / 1e6}')
        writer_ms=$(awk -v n="$(stat writer_cpu_ns)" -v f="$captured" 'BEGIN {printf "%.2f", n / 1e6 / (f ? f : 1)}')
        echo "$plain" >> "$work/plain"; echo "$cap" >> "$work/captured"
        rm -f "$work"/out*.reel
        dropping=$("$reel" capture "${readback[@]}" --when-behind drop -o "$work/out.reel" --stats-file "$work/stats" -- "${scene[@]}" 2>/dev/null | score)
        echo "$dropping $(stat dropped) $(stat swaps)" >> "$work/dropping"
        printf '%s round %d: with --when-behind drop: score %s, dropped %s of %s\n' "$size" "$r" "$dropping" "$(stat dropped)" "$(stat swaps)"
        echo "$hook_ms $hook95_ms $writer_ms $dropped $swaps $captured" >> "$work/rows"
        printf '%s round %d: score %s plain, %s captured (%.2fx); swaps %s, cached %s, dropped %s; hook median %s ms, p95 %s ms; writer CPU %s ms/frame\n' \
            "$size" "$r" "$plain" "$cap" "$(awk -v a="$cap" -v b="$plain" 'BEGIN {print a / b}')" \
            "$swaps" "$captured" "$dropped" "$hook_ms" "$hook95_ms" "$writer_ms"
        rm -f "$work"/out*.reel
    done
    p=$(median < "$work/plain"); c=$(median < "$work/captured")
    printf '%s median: plain %s, captured %s, ratio %.2fx; hook median-of-medians %s ms (p95 %s ms); writer CPU %s ms/frame; dropped total %s; every rendered frame cached: %s\n' \
        "$size" "$p" "$c" "$(awk -v a="$c" -v b="$p" 'BEGIN {print a / b}')" \
        "$(cut -d' ' -f1 "$work/rows" | median)" "$(cut -d' ' -f2 "$work/rows" | median)" \
        "$(cut -d' ' -f3 "$work/rows" | median)" "$(awk '{s += $4} END {print s}' "$work/rows")" \
        "$(awk '$5 != $6 {bad = 1} END {print bad ? "no" : "yes"}' "$work/rows")"
    d=$(cut -d' ' -f1 "$work/dropping" | median)
    printf '%s median with --when-behind drop: score %s, ratio %.2fx, dropped %s of %s frames in all runs\n' \
        "$size" "$d" "$(awk -v a="$d" -v b="$p" 'BEGIN {print a / b}')" \
        "$(awk '{s += $2} END {print s}' "$work/dropping")" "$(awk '{s += $3} END {print s}' "$work/dropping")"
done
