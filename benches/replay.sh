#!/usr/bin/env bash
# Replay benchmark: frule-monitor vs sysdig (libsinsp) on the same large capture (perf-anchors.md §4, §5 W0).
#
# 1. Builds frule-monitor and the repeat_capture example in release mode (once).
# 2. Makes BIG.scap by repeating the events of a corpus capture (default: sysdig-inspect/502Error.scap, 300
#    copies = 2.85 M events, about 195 MB; procinfo events left out, timestamps shifted per copy, written in the
#    layout sysdig 0.29.3 reads), unless it already exists.
# 3. Runs, RUNS times each, interleaved, pinned to one CPU when taskset exists:
#      frule    frule-monitor -r falco_rules.yaml -r falco-incubating_rules.yaml -r falco-sandbox_rules.yaml
#               --replay BIG.scap                     (the upstream rules, unmodified)
#      sysdig   sysdig -q -r BIG.scap                 (no filter: libsinsp's read + parse + state cost)
#      sysdig67 sysdig -q -r BIG.scap "<filter>"      (the same upstream rules that sysdig 0.29.3 compiles,
#               expanded and ORed into one filter: bench/sysdig-filter-all67.txt)
#    `-q` keeps sysdig from printing events (the filter is still evaluated on every event); frule-monitor's
#    alert output goes to /dev/null (the benign capture raises none).
# 4. Prints, per command, the median of the runs: events, wall time, CPU time (user + sys), events/s and
#    ns/event by CPU time, peak RSS (/usr/bin/time -v), and the ratios against sysdig.
#
# Needs sysdig (apt-get install -y sysdig, 0.29.3) and GNU time. Environment:
#   RUNS (3), COPIES (300), BENCH_CPU (1; empty = no pinning), BENCH_DIR (/tmp/frule-replay-bench),
#   BENCH_CAPTURE (the capture to repeat), BENCH_FILTER (the sysdig filter file), BENCH_NO_BUILD=1 to use the
#   existing release binaries (FRULE_MONITOR / REPEAT_CAPTURE name other binaries), FRULE_CORPUS (default ../shared/corpus next to the workspace), CARGO_TARGET_DIR.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
corpus=${FRULE_CORPUS:-$root/../shared/corpus}
runs=${RUNS:-3}
copies=${COPIES:-300}
cpu=${BENCH_CPU-1}
dir=${BENCH_DIR:-/tmp/frule-replay-bench}
capture=${BENCH_CAPTURE:-$corpus/scap/sysdig-inspect/502Error.scap}
filter=${BENCH_FILTER:-$root/../shared/bench/sysdig-filter-all67.txt}
rules_dir=$corpus/rules/falcosecurity-rules

die() { echo "replay.sh: $*" >&2; exit 2; }
command -v sysdig >/dev/null || die "sysdig is not installed (apt-get install -y sysdig)"
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) is not installed"
[ -f "$capture" ] || die "capture $capture not found (set FRULE_CORPUS or BENCH_CAPTURE)"
[ -f "$filter" ] || die "sysdig filter $filter not found (set BENCH_FILTER)"
for f in falco_rules.yaml falco-incubating_rules.yaml falco-sandbox_rules.yaml; do
    [ -f "$rules_dir/$f" ] || die "rules file $rules_dir/$f not found"
done

if [ "${BENCH_NO_BUILD:-}" != 1 ]; then
    (cd "$root" && cargo build --release -q -p frule --bin frule-monitor --example repeat_capture)
fi
monitor=${FRULE_MONITOR:-$target/release/frule-monitor}
repeat=${REPEAT_CAPTURE:-$target/release/examples/repeat_capture}
[ -x "$monitor" ] || die "$monitor not found"
[ -x "$repeat" ] || [ -s "$dir/$(basename "$capture" .scap)x$copies.scap" ] || die "$repeat not found"

mkdir -p "$dir"
big=$dir/$(basename "$capture" .scap)x$copies.scap
if [ ! -s "$big" ]; then
    "$repeat" "$capture" "$big.tmp" "$copies"
    mv "$big.tmp" "$big"
fi

pin=()
if [ -n "$cpu" ] && command -v taskset >/dev/null; then
    pin=(taskset -c "$cpu")
fi

sysdig_filter=$(cat "$filter")
# Every configuration, by name.
run_one() {
    local name=$1 out=$dir/$1.out tv=$dir/$1.time
    case $name in
        frule)
            "${pin[@]}" /usr/bin/time -v -o "$tv" "$monitor" \
                -r "$rules_dir/falco_rules.yaml" -r "$rules_dir/falco-incubating_rules.yaml" \
                -r "$rules_dir/falco-sandbox_rules.yaml" --replay "$big" >"$out" 2>&1 ;;
        sysdig)
            "${pin[@]}" /usr/bin/time -v -o "$tv" sysdig -q -r "$big" >"$out" 2>&1 ;;
        sysdig67)
            "${pin[@]}" /usr/bin/time -v -o "$tv" sysdig -q -r "$big" "$sysdig_filter" >"$out" 2>&1 ;;
    esac
    # wall (s), cpu (s), rss (kB)
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
        /User time/ { u = $2 } /System time/ { s = $2 } /Maximum resident/ { r = $2 }
        END { printf "%.3f %.3f %d\n", w, u + s, r }' "$tv"
}

names=(frule sysdig sysdig67)
declare -A samples
for ((i = 1; i <= runs; i++)); do
    for n in "${names[@]}"; do
        samples[$n]+="$(run_one "$n")"$'\n'
    done
done

# Events: the monitor's own count ("Captured Events: N"); sysdig replays the same file.
events=$(sed -n 's/.*Captured Events: \([0-9]*\).*/\1/p' "$dir/frule.out" | tail -1)
[ -n "$events" ] || die "no event count in frule-monitor's output ($dir/frule.out)"
grep -q "Events detected" "$dir/frule.out" || die "frule-monitor did not finish: $(tail -3 "$dir/frule.out")"

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
declare -A wall cpus rss
for n in "${names[@]}"; do
    wall[$n]=$(printf '%s' "${samples[$n]}" | awk 'NF { print $1 }' | median)
    cpus[$n]=$(printf '%s' "${samples[$n]}" | awk 'NF { print $2 }' | median)
    rss[$n]=$(printf '%s' "${samples[$n]}" | awk 'NF { print $3 }' | median)
done

echo "capture: $big ($events events, $copies copies of $(basename "$capture"))"
echo "runs: $runs per command, interleaved; medians; pinned: ${pin[*]:-no}"
printf '%-9s %10s %9s %9s %12s %9s %9s\n' command events wall_s cpu_s events/s ns/event rss_MB
for n in "${names[@]}"; do
    awk -v n="$n" -v e="$events" -v w="${wall[$n]}" -v c="${cpus[$n]}" -v r="${rss[$n]}" 'BEGIN {
        eps = (c > 0) ? e / c : 0; ns = (e > 0) ? c * 1e9 / e : 0
        printf "%-9s %10d %9.3f %9.3f %12.0f %9.1f %9.1f\n", n, e, w, c, eps, ns, r / 1024 }'
done
awk -v f="${cpus[frule]}" -v s="${cpus[sysdig]}" -v s67="${cpus[sysdig67]}" \
    -v rf="${rss[frule]}" -v rs="${rss[sysdig]}" -v rs67="${rss[sysdig67]}" 'BEGIN {
    printf "ratios (CPU time): sysdig/frule = %.2f   sysdig67/frule = %.2f   (> 1: frule is faster)\n", s / f, s67 / f
    printf "ratios (peak RSS): frule/sysdig = %.2f   frule/sysdig67 = %.2f\n", rf / rs, rf / rs67 }'
echo "frule-monitor summary:"
sed -n '/Events detected/,$p' "$dir/frule.out" | head -5 | sed 's/^/  /'
