#!/usr/bin/env bash
# Instruction counts per operation of the autorelease runtime, under valgrind's callgrind: immune
# to the noise of a shared machine, and the profiles say where the instructions go.
#
#   bash benches/profile.sh        # about a minute
#
# Each operation runs as a loop of N operations, repeated 2 and then 3 times: (Ir(3) - Ir(2)) / N
# is the cost of one operation in a benchmark loop's steady state (heap and pool pages already
# used), without start-up. The 3-loop profiles stay in target/autorelease-bench/callgrind/ for
#   callgrind_annotate --inclusive=yes target/autorelease-bench/callgrind/<impl>.<op>.out
# Rust ops come from crates/autorelease/benches/ops.rs; the C-ABI ones from
# benches/peers/c_abi_pools.c (`op` mode), when crates/autorelease-ffi builds.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${AUTORELEASE_BENCH_OUT:-$ROOT/target/autorelease-bench}/callgrind
mkdir -p "$OUT"
cd "$ROOT"
die() { printf 'benches/profile.sh: %s\n' "$*" >&2; exit 1; }

if ! command -v valgrind >/dev/null; then
    if [[ ${AUTORELEASE_BENCH_NO_INSTALL:-0} != 1 && $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
    else
        die "valgrind is missing (Debian package valgrind)"
    fi
fi

ops_bin=$(cargo bench -p autorelease --bench ops --no-run 2>&1 \
    | sed -n 's/.*Executable benches\/ops.rs (\(.*\))$/\1/p')
[[ -n $ops_bin && -x $ops_bin ]] || die "could not build the ops bench"

c_bin=""
if [[ -f crates/autorelease-ffi/Cargo.toml ]] && cargo build --release -p autorelease-ffi >/dev/null 2>&1 \
    && gcc -std=c99 -O2 -I crates/autorelease-ffi/include -I benches/peers benches/peers/c_abi_pools.c \
        target/release/libautorelease_ffi.a -lpthread -ldl -lm -o "$OUT/c_abi_pools" 2>/dev/null; then
    c_bin=$OUT/c_abi_pools
fi

# Instructions executed by "$@" under callgrind; the profile goes to $profile. The runtime's
# client requests to valgrind's tools are turned off, so the counts are those of a native run.
instructions() {
    AUTORELEASE_VALGRIND_REQUESTS=0 valgrind --tool=callgrind --callgrind-out-file="$profile" "$@" 2>&1 >/dev/null \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

n=100000
printf '%-16s %-24s %12s\n' impl op "Ir per op"
for op in w1 w1_vec_box w2_placeholder w2_scope w2_page w4; do
    for impl in rust c_abi; do
        if [[ $impl == rust ]]; then
            cmd=("$ops_bin" --bench "$op")
        else
            [[ -n $c_bin && $op != w1_vec_box && $op != w2_scope ]] || continue
            cmd=("$c_bin" op "$op")
        fi
        profile=/dev/null
        a=$(instructions "${cmd[@]}" "$n" 2)
        profile=$OUT/$impl.$op.out
        b=$(instructions "${cmd[@]}" "$n" 3)
        printf '%-16s %-24s %12.1f\n' "$impl" "$op" "$(awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN { print (b - a) / n }')"
    done
done
echo "profiles: $OUT/<impl>.<op>.out (callgrind_annotate --inclusive=yes FILE)"
