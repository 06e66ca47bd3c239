#!/usr/bin/env bash
# The exporter's per-content benchmark (issue 16): makes frames of several kinds at run time (none
# are committed), exports each kind with ffmpeg and with reel at every --png-compression level
# (and, with PNG_CORPUS_MJPEG=1, as MJPEG movies), interleaved round by round, and prints medians
# of frames/s and bytes per frame per kind, with reel's ratios against ffmpeg from the same run.
# Every reel PNG sequence is checked bit-exact against ffmpeg's own flip of the source frames.
#
#   bash benches/png_corpus.sh
#
# Environment:
#   PNG_CORPUS_OUT      where frames, outputs and raw results go (default target/png-corpus)
#   PNG_CORPUS_FRAMES   frames per kind, 1280x720 (default 90)
#   PNG_CORPUS_ROUNDS   rounds over all tools (default 3)
#   PNG_CORPUS_KINDS    kinds to run (default: "glmark2 reel-gl testsrc2 mandelbrot noisy")
#   PNG_CORPUS_LEVELS   reel --png-compression levels (default: "fast default small")
#   PNG_CORPUS_MJPEG    1: also MJPEG movies (reel --quality, against ffmpeg -q:v 2), with RGB PSNR
#   PNG_CORPUS_QUALITY  reel's MJPEG quality (default 88, ffmpeg's -q:v 2 within rounding)
#   REEL                the reel binary (default: target/release/reel, built if missing)
#
# Kinds: glmark2 = glmark2-es2's phong-shaded model on Xvfb, recorded with `reel capture`;
# reel-gl = `reel record --gl` (reel's own scene on headless EGL); testsrc2, mandelbrot and
# noisy (testsrc2,noise=alls=12:allf=t) = ffmpeg's lavfi sources.
# Prerequisites: ffmpeg, /usr/bin/time; for glmark2: Xvfb and glmark2-es2 (skipped if missing).
# REEL's directory must hold libreel_capture.so (built with it by default), for the glmark2 kind.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${PNG_CORPUS_OUT:-$ROOT/target/png-corpus}
FRAMES=${PNG_CORPUS_FRAMES:-90}
ROUNDS=${PNG_CORPUS_ROUNDS:-3}
KINDS=${PNG_CORPUS_KINDS:-glmark2 reel-gl testsrc2 mandelbrot noisy}
LEVELS=${PNG_CORPUS_LEVELS:-fast default small}
MJPEG=${PNG_CORPUS_MJPEG:-0}
QUALITY=${PNG_CORPUS_QUALITY:-88}
REEL=${REEL:-$ROOT/target/release/reel}
W=1280 H=720
FRAME_BYTES=$((W * H * 4))

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'benches/png_corpus.sh: %s\n' "$*" >&2; exit 1; }
for tool in ffmpeg /usr/bin/time awk; do command -v "$tool" >/dev/null || die "$tool not found"; done
if [[ ! -x $REEL || ! -f $(dirname "$REEL")/libreel_capture.so ]]; then
    say "building reel and its capture library (release)"
    (cd "$ROOT" && cargo build --release -p reel --bin reel -p reel-capture) || die "cargo build failed"
fi
mkdir -p "$OUT/frames"
RESULTS=$OUT/results.txt
: >"$RESULTS"
: >"$OUT/psnr.txt"

# ---- frames ----------------------------------------------------------------------------------
# Each kind ends up as $OUT/frames/KIND.raw: headerless RGBA, bottom-up, like a GL read-back.
make_lavfi() { # kind source
    ffmpeg -v error -y -f lavfi -i "$2" -frames:v "$FRAMES" -vf vflip -pix_fmt rgba \
        -f rawvideo "$OUT/frames/$1.raw"
}
# A cache's pixels as headerless raw frames: the 64-byte header, then one record per frame of a
# 16-byte record header and the pixels (crates/reel/src/cache/format.rs).
cache_to_raw() { # cache raw
    local i
    : >"$2"
    for ((i = 0; i < FRAMES; i++)); do
        dd if="$1" bs=1M iflag=skip_bytes,count_bytes status=none \
            skip=$((64 + i * (16 + FRAME_BYTES) + 16)) count=$FRAME_BYTES >>"$2"
    done
    rm -f "$1"
}
make_reel_gl() {
    local cache=$OUT/frames/reel-gl.reel
    rm -f "$cache"
    "$REEL" record --gl --frames "$FRAMES" --size ${W}x$H -o "$cache" -q
    cache_to_raw "$cache" "$OUT/frames/reel-gl.raw"
}
# glmark2-es2's phong-shaded model, recorded with reel capture (past its first 60 frames).
make_glmark2() {
    command -v Xvfb >/dev/null && command -v glmark2-es2 >/dev/null || return 1
    local display cache=$OUT/frames/glmark2.reel
    for display in $(seq 90 120); do [[ -e /tmp/.X11-unix/X$display ]] || break; done
    Xvfb ":$display" -screen 0 ${W}x${H}x24 >"$OUT/xvfb.log" 2>&1 &
    local xvfb=$!
    sleep 2
    local ok=0
    rm -f "$cache"
    DISPLAY=":$display" "$REEL" capture --skip 60 --frames "$FRAMES" -o "$cache" -- \
        glmark2-es2 --size ${W}x$H -b shading:shading=phong:duration=600 \
        >"$OUT/glmark2.log" 2>&1 || ok=1
    kill "$xvfb" 2>/dev/null || true
    wait "$xvfb" 2>/dev/null || true
    [[ $ok == 0 ]] && cache_to_raw "$cache" "$OUT/frames/glmark2.raw"
    return $ok
}
kinds=()
for kind in $KINDS; do
    raw=$OUT/frames/$kind.raw
    if [[ ! -f $raw || $(stat -c %s "$raw") -ne $((FRAMES * FRAME_BYTES)) ]]; then
        say "making $FRAMES frames of $kind"
        case $kind in
            testsrc2) make_lavfi testsrc2 "testsrc2=size=${W}x$H:rate=30" ;;
            mandelbrot) make_lavfi mandelbrot "mandelbrot=size=${W}x$H:rate=30" ;;
            noisy) make_lavfi noisy "testsrc2=size=${W}x$H:rate=30,noise=alls=12:allf=t" ;;
            reel-gl) make_reel_gl ;;
            glmark2) make_glmark2 || { say "skipping glmark2 (Xvfb or glmark2-es2 failed)"; continue; } ;;
            *) die "unknown kind $kind" ;;
        esac
    fi
    kinds+=("$kind")
done

# ---- runs --------------------------------------------------------------------------------------
# One measurement: wall seconds and peak RSS (KiB) of the command, bytes of what it wrote.
measure() { # label kind round output command...
    local label=$1 kind=$2 round=$3 output=$4
    shift 4
    rm -rf "$output"
    [[ $label == *mjpeg* ]] || mkdir -p "$output"
    sync
    local t0 t1 rss
    t0=$(date +%s%N)
    /usr/bin/time -f %M -o "$OUT/time.txt" "$@" >/dev/null 2>"$OUT/last.log" \
        || { cat "$OUT/last.log" >&2; die "$label on $kind failed"; }
    t1=$(date +%s%N)
    rss=$(tail -1 "$OUT/time.txt")
    local bytes
    bytes=$(du -sb "$output" | cut -f1)
    echo "$kind $label $round $(((t1 - t0) / 1000)) $rss $bytes" >>"$RESULTS"
}
flipped_md5() { # raw -> md5 of the flipped RGB frames, as ffmpeg sees them
    ffmpeg -v error -f rawvideo -pix_fmt rgba -s ${W}x$H -i "$1" -vf vflip -pix_fmt rgb24 \
        -f framemd5 - | grep -v '^#' | awk -F, '{print $6}' | md5sum
}
decoded_md5() { # PNG directory -> md5 of its frames decoded by ffmpeg
    ffmpeg -v error -i "$1/image-%04d.png" -pix_fmt rgb24 -f framemd5 - | grep -v '^#' \
        | awk -F, '{print $6}' | md5sum
}
# PSNR is taken in RGB against the source frames, as a viewer sees them: both movies decoded by
# ffmpeg to RGB. (In yuv420p against ffmpeg's own conversion of the source, ffmpeg's movie would
# share its chroma filter with the reference; BENCHMARKS.md shows how much that favours it.)
# Frames are paired by number, whatever each movie's time base.
psnr() { # movie raw -> average RGB PSNR of the movie against the flipped source
    ffmpeg -v info -i "$1" -f rawvideo -pix_fmt rgba -s ${W}x$H -i "$2" \
        -lavfi "[0:v]settb=1/30,setpts=N,format=gbrp[dec];[1:v]settb=1/30,setpts=N,vflip,format=gbrp[ref];[dec][ref]psnr" \
        -f null - 2>&1 | sed -n 's/.*PSNR.* average:\([0-9.inf]*\).*/\1/p' | tail -1
}

for round in $(seq 1 "$ROUNDS"); do
    for kind in "${kinds[@]}"; do
        raw=$OUT/frames/$kind.raw
        say "round $round/$ROUNDS: $kind"
        measure ffmpeg-png "$kind" "$round" "$OUT/out/ffmpeg" \
            ffmpeg -v error -f rawvideo -pix_fmt rgba -s ${W}x$H -i "$raw" -vf vflip -pix_fmt rgb24 \
            "$OUT/out/ffmpeg/image-%04d.png"
        for level in $LEVELS; do
            measure "reel-png-$level" "$kind" "$round" "$OUT/out/reel-$level" \
                "$REEL" export --raw ${W}x$H "$raw" --png "$OUT/out/reel-$level" \
                --png-compression "$level" -q
            if [[ $round == 1 ]]; then
                [[ $(flipped_md5 "$raw") == $(decoded_md5 "$OUT/out/reel-$level") ]] \
                    || die "reel --png-compression $level on $kind is not bit-exact"
            fi
        done
        if [[ $MJPEG == 1 ]]; then
            measure ffmpeg-mjpeg "$kind" "$round" "$OUT/out/ffmpeg.mov" \
                ffmpeg -v error -f rawvideo -framerate 30 -pix_fmt rgba -s ${W}x$H -i "$raw" -vf vflip \
                -pix_fmt yuvj420p -c:v mjpeg -q:v 2 "$OUT/out/ffmpeg.mov"
            measure reel-mjpeg "$kind" "$round" "$OUT/out/reel.mov" \
                "$REEL" export --raw ${W}x$H "$raw" --movie "$OUT/out/reel.mov" --codec mjpeg \
                --quality "$QUALITY" -q
            if [[ $round == 1 ]]; then
                echo "$kind psnr ffmpeg-mjpeg $(psnr "$OUT/out/ffmpeg.mov" "$raw")" >>"$OUT/psnr.txt"
                echo "$kind psnr reel-mjpeg $(psnr "$OUT/out/reel.mov" "$raw")" >>"$OUT/psnr.txt"
            fi
        fi
    done
done

# ---- report ------------------------------------------------------------------------------------
echo "frames per kind: $FRAMES of ${W}x$H; medians of $ROUNDS rounds; $(date -u '+%F %H:%M UTC'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "every reel PNG sequence decoded by ffmpeg bit-exactly to the flipped source frames"
awk -v frames="$FRAMES" -v psnr_file="$OUT/psnr.txt" '
function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
BEGIN {
    while ((getline line < psnr_file) > 0) { split(line, p, " "); psnr[p[1] " " p[3]] = p[4] }
}
{
    key = $1 " " $2
    if (!(key in fps)) { order[++n] = key }
    fps[key] = fps[key] " " frames / ($4 / 1e6)
    rss[key] = rss[key] " " $5 / 1024
    bytes[key] = $6 / frames
}
END {
    printf "%-11s %-19s %9s %11s %9s %9s %9s %8s\n", "kind", "tool", "frames/s", "bytes/frame", "RSS MiB", "x fps", "x bytes", "PSNR"
    for (i = 1; i <= n; i++) {
        split(order[i], k, " ")
        peer = k[1] " " (k[2] ~ /mjpeg/ ? "ffmpeg-mjpeg" : "ffmpeg-png")
        f = median(fps[order[i]]); pf = median(fps[peer])
        printf "%-11s %-19s %9.1f %11d %9.1f %8.2fx %8.3fx %8s\n", k[1], k[2], f, bytes[order[i]],
            median(rss[order[i]]), f / pf, bytes[order[i]] / bytes[peer], psnr[order[i]]
    }
}' "$RESULTS"
