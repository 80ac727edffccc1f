# Shared preamble of the storm benchmarks (storm.sh, storm_containers.sh, startup.sh): sourced, not run.
#
# The caller sets `bench` (its name, for messages) and `port` (the monitor's web server port)
# before sourcing; this file checks root and the rules corpus, builds the release binaries unless
# STORM_NO_BUILD=1, and defines what both scripts use:
#   root target load_cpu mon_cpu corpus rules_dir mon load clk work mon_pid
#   monitor_args (the rules and web-server options both pass to frule-monitor)
#   wait_watching LOG PID POLLS PAUSE  waits for the monitor's `watching` line in LOG
#   metric NAME [LABEL]   a metric from the monitor's /metrics (a family summed, or one series)
#   ticks PID [TID]       utime + stime in clock ticks of a process (or one of its threads)
#   field KEY LINE        the value of key=value in a generator line
#   bpf_prog_times        "name run_time_ns run_cnt" for every loaded frule_* eBPF program, or,
#                         when the caller sets bpf_prog_ids (space-separated program ids), for
#                         those programs whatever their names (falco_probe.sh measures the
#                         programs Falco's scap-open loaded this way)
#   bpf_stats_window CMD… runs CMD with kernel.bpf_stats_enabled=1 and prints each selected program's
#                         mean run time and runs over that window (the flag is restored after),
#                         then the mean over all of them (Σ run_time_ns / Σ run_cnt: the figure
#                         Falco's libs publish, 349 ns per invocation with 15 syscalls traced) and,
#                         when CMD prints syscalls=N (syscall_load does), the run time per syscall
#                         of CMD: the per-invocation mean rises when cheap invocations go away (the
#                         classic entry hooks run for their five syscalls only), this one does not
#   bpf_stats_mean TEXT   the all-programs mean (ns per run) from bpf_stats_window's output
# Environment: STORM_RULES (upstream rules files to load, default all three), STORM_LOAD_CPU (0),
# STORM_MONITOR_CPU (1), STORM_NO_BUILD, FRULE_CORPUS (default
# ../shared/corpus next to the workspace), CARGO_TARGET_DIR, STORM_MONITOR (the frule-monitor binary
# to run instead of the release build's, e.g. an older build kept for a same-minute comparison).

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
load_cpu=${STORM_LOAD_CPU:-0}
mon_cpu=${STORM_MONITOR_CPU:-1}
corpus=${FRULE_CORPUS:-$root/../shared/corpus}
rules_dir=$corpus/rules/falcosecurity-rules

if [ "$(id -u)" != 0 ]; then
    echo "$bench: the live capture needs root" >&2
    exit 2
fi
# STORM_RULES: which of the upstream rules files the monitor loads (all three by default; Falco's
# own default configuration loads falco_rules.yaml alone)
rules_files=${STORM_RULES:-"falco_rules.yaml falco-incubating_rules.yaml falco-sandbox_rules.yaml"}
for f in $rules_files; do
    if [ ! -f "$rules_dir/$f" ]; then
        echo "$bench: $rules_dir/$f is missing (set FRULE_CORPUS)" >&2
        exit 2
    fi
done
if [ -z "${STORM_NO_BUILD:-}" ]; then
    (cd "$root" && cargo build --release -q -p frule --bin frule-monitor &&
        cargo build --release -q -p frule-capture-bpf --example syscall_load)
fi
mon=${STORM_MONITOR:-$target/release/frule-monitor}
load=$target/release/examples/syscall_load
clk=$(getconf CLK_TCK)
work=$(mktemp -d)
mon_pid=
monitor_args=()
for f in $rules_files; do monitor_args+=(-r "$rules_dir/$f"); done
monitor_args+=(
    -o webserver.enabled=true -o webserver.listen_address=127.0.0.1
    -o "webserver.listen_port=$port" -o webserver.prometheus_metrics_enabled=true
    -o metrics.enabled=true -o watch_config_files=false
)

wait_watching() { # LOG PID POLLS PAUSE: polls LOG until the monitor's `watching` line is in it
    # (at most POLLS times, PAUSE seconds apart); prints LOG and exits when PID dies first
    local log=$1 pid=$2 polls=$3 pause=$4
    for _ in $(seq 1 "$polls"); do
        grep -q '^frule-monitor: watching' "$log" && return 0
        if ! kill -0 "$pid" 2>/dev/null; then cat "$log" >&2; exit 1; fi
        sleep "$pause"
    done
}

metric() { # NAME [LABEL]: the value of a metric (the sum of a family, or one labelled series)
    curl -sf "http://127.0.0.1:$port/metrics" | awk -v n="$1" -v l="${2:-}" '
        l == "" && ($1 == n || index($1, n "{") == 1) { s += $2 }
        l != "" && $1 == n "{" l "}" { s += $2 }
        END { printf "%d\n", s }'
}
ticks() { # PID [TID]: utime + stime in clock ticks of a process (or of one of its threads)
    local f=/proc/$1/stat
    [ -n "${2:-}" ] && f=/proc/$1/task/$2/stat
    sed 's/^.*) //' "$f" | awk '{ print $12 + $13 }'
}
field() { # KEY LINE: the value of key=value in a generator line
    echo "$2" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'
}
bpf_prog_times() { # one line per loaded frule_* program (or per program in bpf_prog_ids):
    # name run_time_ns run_cnt
    bpftool prog show 2>/dev/null | awk -v ids=" ${bpf_prog_ids:-} " '
        / name / {
            id = $1; sub(/:$/, "", id)
            name = ""; t = 0; c = 0
            for (i = 1; i < NF; i++) {
                if ($i == "name") name = $(i + 1)
                if ($i == "run_time_ns") t = $(i + 1)
                if ($i == "run_cnt") c = $(i + 1)
            }
            if (ids == "  " ? name ~ /^frule_/ : index(ids, " " id " ") > 0) print name, t, c
        }'
}
bpf_stats_window() { # CMD...: per-program mean run time while CMD runs with BPF statistics on
    if ! command -v bpftool >/dev/null 2>&1; then
        echo "  bpf run times:         (bpftool not installed: apt-get install bpftool)"
        "$@" >/dev/null
        return
    fi
    local was before after
    was=$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null || echo 0)
    sysctl -q kernel.bpf_stats_enabled=1
    before=$(bpf_prog_times)
    out=$("$@")
    after=$(bpf_prog_times)
    sysctl -q kernel.bpf_stats_enabled="$was"
    printf '%s\n--\n%s\n' "$before" "$after" | awk -v load_syscalls="$(field syscalls "$out")" '
        $1 == "--" { second = 1; next }
        !second { t0[$1] = $2; c0[$1] = $3; next }
        { dt = $2 - t0[$1]; dc = $3 - c0[$1]
          if (dc > 0) printf "  bpf %-18s %10d runs, %6.0f ns per run (statistics on: each run also pays ≈ one clock read)\n", $1 ":", dc, dt / dc
          if (dc > 0) { st += dt; sc += dc } }
        END { if (sc > 0) printf "  bpf %-18s %10d runs, %6.0f ns per run (Σ run_time_ns / Σ run_cnt, Falco modern_bpf publishes 349 ns with 15 syscalls)\n", "all programs:", sc, st / sc
              if (sc > 0 && load_syscalls > 0) printf "  bpf per load syscall:  %6.0f ns of eBPF run time per syscall the load issued (Σ run_time_ns / %d; Falco ran an enter and an exit program per syscall, so its 349 ns per invocation is ≈ 698 ns per syscall)\n", st / load_syscalls, load_syscalls }'
}
bpf_stats_mean() { # TEXT: the all-programs mean run time (ns) in bpf_stats_window's output, or empty
    echo "$1" | awk '$2 == "all" && $3 == "programs:" { print $6 }'
}
