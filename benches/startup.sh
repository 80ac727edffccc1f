#!/usr/bin/env bash
# Start-up benchmark of the live monitor: how long `frule-monitor` takes from exec to its
# `frule-monitor: watching ...` line with Falco's upstream rules (stable + incubating + sandbox), how
# long the kernel takes to load (verify) each eBPF program, and whether a monitor started while a
# heavy open/close load runs drops events in its first seconds.
#
# Printed:
#   - idle start-up (STARTUP_RUNS runs, nothing else started): wall-clock time from exec to the
#     `watching` line, and the monitor's CPU time (user + system) at that moment;
#   - one more start-up under `strace -f -T -e trace=bpf` (when strace is installed): each
#     BPF_PROG_LOAD's duration by program name (the kernel verifier's time), and their sum;
#   - under load: the open/close generator (`syscall_load open`, with the kernel's embedded fd table
#     as a systemd- or container-started process has) runs pinned to STARTUP_LOAD_CPU for
#     STARTUP_LOAD_SECONDS; one second in, the monitor is started pinned to STARTUP_MONITOR_CPU; its
#     exec-to-watching time, the drops the kernel counted by one second after the `watching` line
#     and by the end of the load (from /metrics), and the `system calls dropped` alerts it printed.
#
# No pass/fail: the figures are for BENCHMARKS.md ("Start-up"). The whole run takes about
# STARTUP_LOAD_SECONDS + 15 s; only the under-load part keeps a core busy.
#
# Needs root (eBPF), 2 cores, curl and taskset (strace optional). Environment: STARTUP_RUNS (2),
# STARTUP_LOAD_SECONDS (8), STARTUP_LOAD_CPU (0), STARTUP_MONITOR_CPU (1), STARTUP_PORT (18767),
# STARTUP_STRACE (1; 0 skips the strace run), plus storm_common.sh's STORM_NO_BUILD=1 (skip the
# release build), STORM_MONITOR (another frule-monitor binary), FRULE_CORPUS, CARGO_TARGET_DIR.
set -euo pipefail

bench=startup.sh
port=${STARTUP_PORT:-18767}
runs=${STARTUP_RUNS:-2}
load_secs=${STARTUP_LOAD_SECONDS:-8}
export STORM_LOAD_CPU=${STARTUP_LOAD_CPU:-0} STORM_MONITOR_CPU=${STARTUP_MONITOR_CPU:-1}
# shellcheck source=benches/storm_common.sh
source "$(dirname "$0")/storm_common.sh"
load_pid=
cleanup() {
    if [ -n "$mon_pid" ]; then kill -INT "$mon_pid" 2>/dev/null || true; wait "$mon_pid" 2>/dev/null || true; fi
    if [ -n "$load_pid" ]; then kill "$load_pid" 2>/dev/null || true; wait "$load_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }

# start_monitor LOG [PREFIX...]: starts the monitor (behind PREFIX, e.g. taskset or strace), waits
# for its `watching` line and sets mon_pid, watch_s (exec to watching, seconds) and cpu_s (the
# monitor's CPU time then).
start_monitor() {
    local log=$1
    shift
    local t0 t1
    t0=$(now)
    "$@" "$mon" "${monitor_args[@]}" >"$log.out" 2>"$log" &
    mon_pid=$!
    wait_watching "$log" "$mon_pid" 12000 0.005
    t1=$(now)
    watch_s=$(echo "$t1 - $t0" | bc -l)
    # under strace the monitor is strace's child: its own pid is the one whose comm is frule-monitor
    local pid=$mon_pid
    if [ "$(cat "/proc/$pid/comm")" != frule-monitor ]; then
        pid=$(pgrep -P "$mon_pid" -x frule-monitor | head -1)
    fi
    cpu_s=$(echo "$(ticks "$pid") / $clk" | bc -l)
    mon_self=$pid
}

stop_monitor() { # SIGINT to the monitor itself (not to strace), then wait for what was started
    kill -INT "$mon_self" 2>/dev/null || true
    wait "$mon_pid" 2>/dev/null || true
    mon_pid=
}

echo "startup: rules $rules_files, kernel $(uname -r), $(nproc) cpus, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$runs"); do
    start_monitor "$work/idle.$i"
    printf '  idle start-up %d:   exec -> watching %6.2f s, monitor CPU %5.2f s\n' "$i" "$watch_s" "$cpu_s"
    stop_monitor
done

if [ "${STARTUP_STRACE:-1}" = 1 ] && command -v strace >/dev/null 2>&1; then
    start_monitor "$work/strace.err" strace -f -T -e trace=bpf -o "$work/strace"
    stop_monitor
    printf '  under strace:       exec -> watching %6.2f s; BPF_PROG_LOAD per program (verification):\n' "$watch_s"
    grep 'BPF_PROG_LOAD' "$work/strace" | grep 'prog_name="frule_' | grep -v '= -' | sed -n 's/.*prog_name="\([^"]*\)".*<\([0-9.]*\)>$/\1 \2/p' |
        awk '{ printf "    %-20s %7.3f s\n", $1, $2; s += $2 } END { printf "    %-20s %7.3f s\n", "total", s }'
fi

SYSCALL_LOAD_SMALL_FDTABLE=1 taskset -c "$load_cpu" "$load" open "$load_secs" >"$work/load.out" &
load_pid=$!
sleep 1
start_monitor "$work/load.err" taskset -c "$mon_cpu"
printf '  under open/close load (cpu %s; monitor on cpu %s):\n' "$load_cpu" "$mon_cpu"
printf '    exec -> watching  %6.2f s, monitor CPU %5.2f s\n' "$watch_s" "$cpu_s"
sleep 1
d1=$(metric falcosecurity_scap_n_drops_total)
k1=$(metric falcosecurity_scap_n_evts_total)
wait "$load_pid" || true
load_pid=
sleep 1
d2=$(metric falcosecurity_scap_n_drops_total)
k2=$(metric falcosecurity_scap_n_evts_total)
stop_monitor
alerts=$(cat "$work/load.err" "$work/load.err.out" | grep -c "system calls dropped" || true)
printf '    drops by watching + 1 s: %d of %d kernel events\n' "$d1" "$k1"
printf '    drops by the end:        %d of %d kernel events; "system calls dropped" alerts: %d\n' "$d2" "$k2" "$alerts"
printf '    load: %s\n' "$(cat "$work/load.out")"
