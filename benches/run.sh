#!/usr/bin/env bash
# The autorelease runtime's benchmark (issues 2 and 3): builds and runs every workload for the
# Rust API (criterion + the W3 bench binary), the C ABI (when crates/autorelease-ffi builds) and
# GNUstep Base's NSAutoreleasePool, then prints one table with medians and the target ratios.
#
#   bash benches/run.sh            # about 6 minutes on a 2-core machine
#
# Environment:
#   AUTORELEASE_BENCH_OUT      where binaries, logs and raw results go (default target/autorelease-bench)
#   AUTORELEASE_BENCH_ROUNDS   rounds of W1 W2 W4 W5 over all implementations (default 3)
#   PEER_REPS                  repetitions of each C/GNUstep measurement per round (default 7)
#   AUTORELEASE_BENCH_W3_REPS  child-process runs per W3 variant, each with another heap layout (default 5)
#   AUTORELEASE_BENCH_COLD_REPS  fresh processes per implementation for cold W1 (default 11)
#   AUTORELEASE_BENCH_NO_INSTALL=1  never apt-get install missing prerequisites; fail instead
#
# Prerequisites: cargo, a C compiler (gcc), GNUstep Base (Debian: gobjc libgnustep-base-dev).
# When run as root with apt-get available, missing Debian packages are installed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${AUTORELEASE_BENCH_OUT:-$ROOT/target/autorelease-bench}
RESULTS=$OUT/results.txt
mkdir -p "$OUT"
: >"$RESULTS"
cd "$ROOT"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'benches/run.sh: %s\n' "$*" >&2; exit 1; }

# ---- prerequisites ------------------------------------------------------------------------------
need_pkgs=()
command -v cargo >/dev/null || die "cargo not found: install a Rust toolchain (rustup) first"
command -v gcc >/dev/null || need_pkgs+=(gcc)
command -v gnustep-config >/dev/null || need_pkgs+=(gobjc libgnustep-base-dev)
if command -v gnustep-config >/dev/null && ! command -v gobjc >/dev/null \
    && ! ls /usr/lib/gcc/*/*/cc1obj >/dev/null 2>&1; then
    need_pkgs+=(gobjc)
fi
if ((${#need_pkgs[@]})); then
    if [[ ${AUTORELEASE_BENCH_NO_INSTALL:-0} != 1 && $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        say "installing ${need_pkgs[*]}"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
    else
        die "missing prerequisites: ${need_pkgs[*]} (Debian packages; install them, e.g. apt-get install ${need_pkgs[*]})"
    fi
fi
for tool in gcc gnustep-config awk sed; do
    command -v "$tool" >/dev/null || die "$tool still missing after installing prerequisites"
done

# ---- build --------------------------------------------------------------------------------------
say "building the GNUstep peer"
# gnustep-config's flags ask for dependency files (-MMD -MP); they are not wanted here.
objc_flags=$(gnustep-config --objc-flags | sed -e 's/-MMD//g' -e 's/-MP//g')
# shellcheck disable=SC2086 # word splitting of the flag lists is intended
gcc -std=gnu11 $objc_flags -O2 -w benches/peers/gnustep_pools.m -o "$OUT/gnustep_pools" \
    $(gnustep-config --base-libs) >"$OUT/gnustep_build.log" 2>&1 \
    || { cat "$OUT/gnustep_build.log" >&2; die "building benches/peers/gnustep_pools.m failed"; }

c_abi=skipped
c_abi_reason="crate not built"
if [[ -f crates/autorelease-ffi/Cargo.toml && -f crates/autorelease-ffi/include/autorelease.h ]]; then
    say "building crates/autorelease-ffi (release) and the C-ABI peer"
    if cargo build --release -p autorelease-ffi >"$OUT/ffi_build.log" 2>&1 \
        && [[ -f target/release/libautorelease_ffi.a ]]; then
        if gcc -std=c99 -O2 -Wall -I crates/autorelease-ffi/include -I benches/peers \
            benches/peers/c_abi_pools.c target/release/libautorelease_ffi.a \
            -lpthread -ldl -lm -o "$OUT/c_abi_pools" >"$OUT/c_abi_build.log" 2>&1; then
            c_abi=built
        else
            c_abi_reason="C program failed to build, see $OUT/c_abi_build.log"
        fi
    else
        c_abi_reason="crate not built: cargo build failed, see $OUT/ffi_build.log"
    fi
fi

say "building the Rust benches"
cargo bench -p autorelease --no-run >"$OUT/cargo_bench_build.log" 2>&1 \
    || { tail -30 "$OUT/cargo_bench_build.log" >&2; die "cargo bench --no-run failed"; }

# ---- run ----------------------------------------------------------------------------------------
# The machine is shared and noisy: W1/W2/W4/W5 run in ROUNDS rounds, each round every
# implementation back to back (C ABI, GNUstep, Rust), so a burst of load from other processes
# does not land on one implementation only; the table takes the median over the rounds of each
# round's median.
rounds=${AUTORELEASE_BENCH_ROUNDS:-3}
export PEER_REPS=${PEER_REPS:-7}
[[ $c_abi == built ]] || say "C ABI: skipped ($c_abi_reason)"

# criterion's median point estimate (ns per iteration) of <group>/<function>.
crit_median() {
    local f=$1/$2/$3/new/estimates.json
    [[ -f $f ]] || { echo NA; return; }
    sed -e 's/.*"median":{"confidence_interval":{[^}]*},"point_estimate":\([-0-9.eE+]*\).*/\1/' "$f"
}

for ((round = 1; round <= rounds; round++)); do
    if [[ $c_abi == built ]]; then
        say "round $round/$rounds: C ABI peer (W1 W2 W4)"
        "$OUT/c_abi_pools" | tee -a "$RESULTS" >&2
    fi

    say "round $round/$rounds: GNUstep Base peer (W1 W2 W4 W5)"
    "$OUT/gnustep_pools" pools | tee -a "$RESULTS" >&2

    say "round $round/$rounds: Rust, criterion (W1 W2 W4 W5)"
    # A fresh criterion home per round, so only this round's estimates are read back.
    home=$OUT/criterion/round$round
    rm -rf "$home"
    CRITERION_HOME=$home cargo bench -p autorelease --bench pools >"$OUT/criterion$round.log" 2>&1 \
        || { tail -30 "$OUT/criterion$round.log" >&2; die "cargo bench --bench pools failed"; }
    grep -E '^(w[0-9]/[a-z_]+ +time:|RESULT)' "$OUT/criterion$round.log" >&2 || true
    grep '^RESULT' "$OUT/criterion$round.log" >>"$RESULTS" || true
    for id in w1/ours w1/ours_raw w1/vec_box w1/vec_box_lifo w1/rc w4/ours w4/vec_marks \
        w5/ours_per_thread w5/vec_box_per_thread w5/ours_single w5/vec_box_single \
        w5/ours_per_thread_cpu w5/ours_single_cpu \
        w2/ours w2/ours_raw w2/ours_page \
        w2/ours_raw_page w2/ours_raw_nested; do
        echo "CRIT $id $(crit_median "$home" "${id%/*}" "${id#*/}")" >>"$RESULTS"
    done
done

# Cold W1: a fresh process per measurement (the heap not grown yet), C ABI and GNUstep
# alternating, so a burst of load does not land on one of them only.
cold_reps=${AUTORELEASE_BENCH_COLD_REPS:-11}
say "W1 cold: $cold_reps fresh processes each (C ABI, GNUstep Base)"
for ((rep = 1; rep <= cold_reps; rep++)); do
    [[ $c_abi == built ]] && "$OUT/c_abi_pools" cold >>"$RESULTS"
    "$OUT/gnustep_pools" cold >>"$RESULTS"
done

say "GNUstep Base: W3 frame-export loop (child processes)"
"$OUT/gnustep_pools" w3 | tee -a "$RESULTS" >&2

say "Rust: W3 frame-export loop (child processes)"
cargo bench -p autorelease --bench frame_export 2>"$OUT/frame_export.log" | tee -a "$RESULTS" >&2 \
    || die "cargo bench --bench frame_export failed, see $OUT/frame_export.log"

# ---- report -------------------------------------------------------------------------------------
{
    echo "C_ABI $c_abi"
    echo "C_ABI_REASON $c_abi_reason"
} >>"$RESULTS"
say "raw results: $RESULTS"
echo
echo "autorelease benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "medians over $rounds rounds (W3: over ${AUTORELEASE_BENCH_W3_REPS:-5} child runs per variant); the machine is shared and noisy"
echo
awk -f "$ROOT/benches/report.awk" "$RESULTS"
