# Turns the raw results collected by benches/run.sh into the benchmark table and target checks.
#
# Input lines:
#   RESULT <workload> <impl> <metric> <value>             (C-ABI and GNUstep peers, LIFO checks)
#   RESULT W3 <variant> <iterations> <metric> <value>     (W3, both Rust and GNUstep)
#   CRIT <group>/<function> <median ns per iteration>     (criterion, one line per round)
#   C_ABI built|skipped, C_ABI_REASON <text>

# Every measurement may appear several times (once per round): each key keeps all its values,
# and the table uses their median (for words such as "strict": the value if all rounds agree).
function add(arr_key, value) { n[arr_key]++; all[arr_key, n[arr_key]] = value }
$1 == "RESULT" && $2 == "W3" { add($2 " " $3 " " $4 " " $5, $6); next }
$1 == "RESULT" { add($2 " " $3 " " $4, $5); next }
$1 == "CRIT" { add("crit " $2, $3); next }
$1 == "C_ABI" { c_abi = $2; next }
$1 == "C_ABI_REASON" { $1 = ""; c_abi_reason = substr($0, 2); next }

function is_num(x) { return x ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ }
# The median of key k's numeric values, or its word.
function summarise(k,    i, j, m, t, xs, word) {
    m = 0
    word = ""
    for (i = 1; i <= n[k]; i++) {
        if (is_num(all[k, i])) xs[++m] = all[k, i] + 0
        else if (word == "" || word == all[k, i]) word = all[k, i]
        else word = "mixed"
    }
    if (m == 0) return word == "" ? "NA" : word
    for (i = 2; i <= m; i++) {
        t = xs[i]
        for (j = i - 1; j >= 1 && xs[j] > t; j--) xs[j + 1] = xs[j]
        xs[j + 1] = t
    }
    return m % 2 ? xs[(m + 1) / 2] : (xs[m / 2] + xs[m / 2 + 1]) / 2
}

function has(x) { return x != "" && x != "NA" }
# criterion median scaled to the row's unit, or "".
function c(id, div) { return has(v["crit " id]) ? v["crit " id] / div : "" }
function num(x) {
    if (!has(x)) return "-"
    if (x + 0 >= 100) return sprintf("%.0f", x)
    if (x + 0 >= 10) return sprintf("%.1f", x)
    return sprintf("%.2f", x)
}
function row(name, ours, cabi, gs, floor, floor_name) {
    printf "%-46s %13s %13s %13s %13s  %s\n", name, num(ours), num(cabi), num(gs), num(floor), floor_name
}
function srow(name, ours, cabi, gs, floor) {
    printf "%-46s %13s %13s %13s %13s\n", name, ours == "" ? "-" : ours, cabi == "" ? "-" : cabi, gs == "" ? "-" : gs, floor == "" ? "-" : floor
}
# One W3 line: loop time and minor faults as median [min-max] over the runs, peak RSS median.
function w3line(label, impl, variant, iters,    k, ms, rss, flt) {
    k = "W3 " variant " " iters " "
    if (!has(v[k "ms"])) return
    ms = sprintf("%.0f [%.0f-%.0f]", v[k "ms"], v[k "ms_min"], v[k "ms_max"])
    flt = sprintf("%.0fk [%.0fk-%.0fk]", v[k "minflt"] / 1000, v[k "minflt_min"] / 1000, v[k "minflt_max"] / 1000)
    rss = sprintf("%.0f", v[k "maxrss_kib"] / 1024)
    printf "%-28s %-14s %-20s %8s   %s\n", label, impl, ms, rss, flt
}
function w3rows(label, ours_variant, gs_variant, floor_variant, iters) {
    w3line(label, "ours (Rust)", ours_variant, iters)
    w3line("", "GNUstep Base", gs_variant, iters)
    if (floor_variant != "") w3line("", "Rust floor", floor_variant, iters)
}
# A target line: measured ratio, the target, met or MISSED.
function check(name, ratio, op, target,    ok) {
    if (!has(ratio)) { printf "  %-58s %8s   %-9s %s\n", name, "-", op " " target, "not measured"; return }
    ok = (op == ">=") ? ratio >= target : ratio <= target
    printf "  %-58s %8.3f   %-9s %s\n", name, ratio, op " " target, ok ? "met" : "MISSED"
}
# A ratio shown for context, with no target.
function info(name, r) { if (has(r)) printf "  %-58s %8.3f   (context, no target)\n", name, r }
function ratio(a, b) { return (has(a) && has(b) && b + 0 > 0) ? a / b : "" }

END {
    for (k in n) v[k] = summarise(k)
    w1 = c("w1/ours", 1e6); w1raw = c("w1/ours_raw", 1e6); vecbox = c("w1/vec_box", 1e6); vecboxlifo = c("w1/vec_box_lifo", 1e6); rc = c("w1/rc", 1e6)
    w2 = c("w2/ours", 1); w2raw = c("w2/ours_raw", 1); w2p = c("w2/ours_page", 1)
    w2praw = c("w2/ours_raw_page", 1); w2n = c("w2/ours_raw_nested", 1)
    w4 = c("w4/ours", 1e3); w4floor = c("w4/vec_marks", 1e3)
    w5 = c("w5/ours_per_thread", 1e6); w5floor = c("w5/vec_box_per_thread", 1e6)
    w5single = c("w5/ours_single", 1e6); w5floorsingle = c("w5/vec_box_single", 1e6)
    w5cpu = c("w5/ours_per_thread_cpu", 1e6); w1cpu = c("w5/ours_single_cpu", 1e6)

    printf "%-46s %13s %13s %13s %13s\n", "workload (median)", "ours (Rust)", "ours (C ABI)", "GNUstep Base", "Rust floor"
    row("W1 ns/object, autorelease(pool)", w1, v["W1 c_abi ns_per_object"], v["W1 gnustep ns_per_object"], vecbox, "Vec<Box<T>>")
    row("W1 cold ns/object, fresh process, C ABI", "", v["W1cold c_abi ns_per_object"], v["W1cold gnustep ns_per_object"], "", "")
    row("W1 cold peak bytes/object (RSS growth)", "", v["W1cold c_abi peak_bytes_per_object"], v["W1cold gnustep peak_bytes_per_object"], "", "")
    row("W1 ns/object, raw push/to_innermost/pop", w1raw, "", "", vecboxlifo, "Vec<Box<T>> emptied newest first")
    row("W1 ns/object, no deferral", "", "", "", rc, "Rc<T> dropped at once")
    row("W2 ns/pair, no page yet, autoreleasepool", w2, v["W2 c_abi ns_per_pair"], v["W2 gnustep ns_per_pair"], "", "")
    row("W2 ns/pair, no page yet, raw push/pop", w2raw, "", "", "", "")
    row("W2 ns/pair, after use (page), autoreleasepool", w2p, v["W2p c_abi ns_per_pair"], v["W2p gnustep ns_per_pair"], "", "")
    row("W2 ns/pair, after use (page), raw push/pop", w2praw, "", "", "", "")
    row("W2 ns/pair, nested in a pool, raw push/pop", w2n, v["W2n c_abi ns_per_pair"], v["W2n gnustep ns_per_pair"], "", "")
    row("W4 us, 1000 pools x 10 objects, one pop", w4, v["W4 c_abi us"], v["W4 gnustep us"], w4floor, "Vec + marks")
    row("W6 ns/call, getter at +0 + caller keeps it", "", v["W6 c_abi_handoff ns_per_call"], "", v["W6 c_abi_autorelease ns_per_call"], "autorelease+retain+pop")
    srow("W4 release order", v["W4 ours lifo"], v["W4 c_abi lifo"], v["W4 gnustep lifo"], "strict")
    row("W5 ns/object per thread, 2 threads", w5, "", v["W5 gnustep ns_per_object_per_thread"], w5floor, "Vec<Box<T>>")
    row("   (one thread alone, started the same way)", w5single, "", "", w5floorsingle, "")
    row("   (W1, main thread of a 1-thread process)", w1, "", v["W1 gnustep ns_per_object"], vecbox, "")
    row("W5 thread CPU ns/object per thread, 2 threads", w5cpu, "", "", "", "")
    row("   (W1 on one thread, thread CPU time)", w1cpu, "", "", "", "")
    if (c_abi != "built") printf "C ABI: skipped (%s)\n", c_abi_reason
    print ""
    print "W3 frame-export loop: 50 objects x 64 KiB per iteration, each run a fresh child process;"
    print "median [min-max] over runs with different heap layouts (argv[0] lengths)"
    printf "%-28s %-14s %-20s %8s   %s\n", "variant", "", "loop ms", "peak MiB", "minor faults"
    w3rows("pool per iteration, 200 it", "pool_per_iter", "gnustep_pool_per_iter", "floor", 200)
    w3rows("pool per iteration, 2000 it", "pool_per_iter", "gnustep_pool_per_iter", "floor", 2000)
    w3rows("one outer pool, 200 it", "outer_pool", "gnustep_outer_pool", "", 200)
    w3rows("one outer pool, 2000 it", "outer_pool", "gnustep_outer_pool", "", 2000)
    print ""
    print "targets (ratios of medians from this run)"
    check("W1 ours / Vec<Box<T>> (ours no slower than 1.2x the floor)", ratio(w1, vecbox), "<=", 1.2)
    info("W1 ours / Vec<Box<T>> emptied newest first", ratio(w1, vecboxlifo))
    check("W1 GNUstep / ours", ratio(v["W1 gnustep ns_per_object"], w1), ">=", 2.3)
    check("W1 GNUstep / ours via C ABI", ratio(v["W1 gnustep ns_per_object"], v["W1 c_abi ns_per_object"]), ">=", 2.3)
    check("W1 cold (fresh process) GNUstep / ours via C ABI", ratio(v["W1cold gnustep ns_per_object"], v["W1cold c_abi ns_per_object"]), ">=", 3)
    check("W1 ours via C ABI / Vec<Box<T>> (warm)", ratio(v["W1 c_abi ns_per_object"], vecbox), "<=", 1.0)
    check("W2 GNUstep / ours, no page yet (autoreleasepool)", ratio(v["W2 gnustep ns_per_pair"], w2), ">=", 6)
    check("W2 GNUstep / ours, no page yet (raw push/pop)", ratio(v["W2 gnustep ns_per_pair"], w2raw), ">=", 6)
    check("W2 GNUstep / ours, after use (autoreleasepool)", ratio(v["W2p gnustep ns_per_pair"], w2p), ">=", 6)
    check("W2 GNUstep / ours, after use (raw push/pop)", ratio(v["W2p gnustep ns_per_pair"], w2praw), ">=", 6)
    check("W2 GNUstep / ours via C ABI, no page yet", ratio(v["W2 gnustep ns_per_pair"], v["W2 c_abi ns_per_pair"]), ">=", 6)
    check("W2 GNUstep / ours via C ABI, after use", ratio(v["W2p gnustep ns_per_pair"], v["W2p c_abi ns_per_pair"]), ">=", 6)
    check("W2 ours ns/pair, no page yet, raw (aim)", w2raw, "<=", 3)
    info("W6 hand-off / autorelease+retain+pop (C ABI)", ratio(v["W6 c_abi_handoff ns_per_call"], v["W6 c_abi_autorelease ns_per_call"]))
    check("W4 GNUstep / ours", ratio(v["W4 gnustep us"], w4), ">=", 3)
    check("W4 GNUstep / ours via C ABI", ratio(v["W4 gnustep us"], v["W4 c_abi us"]), ">=", 3)
    printf "  %-58s %8s   %-9s %s\n", "W4 strictly LIFO (Rust / C ABI)", "", "strict", \
        (v["W4 ours lifo"] == "strict" && (c_abi != "built" || v["W4 c_abi lifo"] == "strict")) ? "met" : "MISSED"
    check("W3 pool per iteration: peak RSS 2000 it / 200 it (flat)", \
        ratio(v["W3 pool_per_iter 2000 maxrss_kib"], v["W3 pool_per_iter 200 maxrss_kib"]), "<=", 1.1)
    check("W3 pool per iteration: worst peak RSS 2000 it / 200 it", \
        ratio(v["W3 pool_per_iter 2000 maxrss_kib_max"], v["W3 pool_per_iter 200 maxrss_kib_max"]), "<=", 1.1)
    check("W5 per-thread cost / single-thread, wall time", ratio(w5, w5single), "<=", 1.3)
    check("W5 per-thread cost / single-thread, thread CPU time", ratio(w5cpu, w1cpu), "<=", 1.3)
    info("W5 per-thread cost / W1 in a 1-thread process", ratio(w5, w1))
    info("W5 floor: Vec<Box<T>> per-thread / single-thread", ratio(w5floor, w5floorsingle))
    info("W5 GNUstep per-thread / its W1", ratio(v["W5 gnustep ns_per_object_per_thread"], v["W1 gnustep ns_per_object"]))
}
