#!/usr/bin/env bash
# Falco's own modern_bpf probe under the storm load, on this machine (the anchor of issue 5).
#
# Issue 5 asks that frule's live capture slow a syscall storm by less than Falco's kernel-side
# cost. The published figure (perf-anchors.md: 349 ns per BPF invocation, 15 syscalls traced) was
# measured by falcosecurity/libs on other hardware with the older enter+exit probe; on a VM whose
# syscall and tracepoint costs differ (retpolines, SRSO safe-RET, a slow clock source) only Falco's
# current probe, measured here under the same load as storm.sh, says what "Falco's cost" is on
# this host. This script runs libs' `scap-open` example with the modern_bpf engine as the consumer
# (it drains the ring buffers and counts events; no rule evaluation, so its user-space CPU is not
# comparable with frule-monitor's, but the kernel side is Falco's: the same programs, maps and
# ring buffers Falco loads) and measures, per workload mode, in the A-B-A order of storm.sh:
#   - the load generator's rate alone (before and after) and under the probe, and its CPU per op
#     (user + system, so it includes the eBPF programs) alone and under the probe: the added CPU
#     per syscall of the load is the slowdown storm.sh reports for frule;
#   - the events scap-open's probe saw (kernel side, all processes) and scap-open received, and
#     the drops (libscap's n_drops and its buffer-full part), over scap-open's whole run (it
#     prints its counters when it stops: they include ≈ 2 s of an idle host around the load);
#   - scap-open's CPU over the load window (it drains and counts the events, nothing more);
#   - in a second window of STORM_STATS_SECONDS with kernel.bpf_stats_enabled=1 (restored after),
#     each attached program's runs and mean run time (bpftool prog show; tail-called programs are
#     accounted to the program that was attached), Σ run_time_ns / Σ run_cnt (the metric of
#     Falco's published 349 ns) and the eBPF run time per syscall the load issued.
# The syscall set is Falco's default selection (falco.yaml: base_syscalls.custom_set empty, repair
# false): libsinsp's state set (scap_get_modifies_state_ppm_sc: the syscalls and tracepoints that
# modify state, sched_process_exit included) plus the syscalls the loaded rules name in
# `evt.type` conditions. getppid, the `untraced` mode's syscall, is in neither, and the script
# refuses to run that mode if it is.
#
# Needs root, 2 cores, taskset, stdbuf, bpftool (for the run times), a C compiler when the
# RLIMIT_MEMLOCK hard limit is not unlimited (see below), and a scap-open built with the modern
# BPF engine (this script does not build libs: see BENCHMARKS.md, "Falco's modern_bpf probe on
# this VM"). Environment:
#   FALCO_SCAP_OPEN (required): path of libs' userspace/libscap/examples/01-open/scap-open
#   FALCO_PPM_SC: the syscall/tracepoint names to trace, instead of the default selection above
#   FALCO_CPUS_FOR_BUF (2, falco.yaml's modern_ebpf.cpus_for_each_buffer default),
#   FALCO_BUFFER_BYTES (8388608, falco.yaml's buf_size_preset 4)
#   STORM_SECONDS (5), STORM_MODES ("open exec connect mix untraced"), STORM_STATS_SECONDS (2),
#   STORM_RULES (the upstream rules files whose evt.types join the selection: falco_rules.yaml
#   alone by default, as Falco's default configuration), STORM_LOAD_CPU (0), STORM_PROBE_CPU
#   (scap-open's cpu; STORM_MONITOR_CPU, 1, when unset), STORM_FDTABLE (grown or small, as
#   storm.sh), STORM_NO_BUILD=1 to skip building the load generator, CARGO_TARGET_DIR,
#   FRULE_CORPUS.
# libpman raises RLIMIT_MEMLOCK to unlimited and gives up when it cannot; since Linux 5.11 eBPF
# memory is charged to the memory cgroup and the limit is not used, but a container without
# CAP_SYS_RESOURCE (this VM's shell) cannot raise it. Then scap-open runs with a preloaded
# setrlimit that accepts RLIMIT_MEMLOCK as a no-op (built here into a temporary directory).
set -euo pipefail

bench=falco_probe.sh
port=0 # unused: no frule-monitor runs here
secs=${STORM_SECONDS:-5}
modes=${STORM_MODES:-"open exec connect mix untraced"}
stats_secs=${STORM_STATS_SECONDS:-2}
fdtable=${STORM_FDTABLE:-grown}
cpus_for_buf=${FALCO_CPUS_FOR_BUF:-2}
buffer_bytes=${FALCO_BUFFER_BYTES:-8388608}
scap_open=${FALCO_SCAP_OPEN:-}
case $fdtable in
    grown) ;;
    small) export SYSCALL_LOAD_SMALL_FDTABLE=1 ;;
    *) echo "$bench: STORM_FDTABLE must be grown or small, not '$fdtable'" >&2; exit 2 ;;
esac
if [ -z "$scap_open" ] || [ ! -x "$scap_open" ]; then
    cat >&2 <<'EOF'
falco_probe.sh: set FALCO_SCAP_OPEN to a scap-open built with the modern BPF engine, e.g.
  git clone https://github.com/falcosecurity/libs falco-libs && mkdir falco-libs/build && cd falco-libs/build
  cmake -DUSE_BUNDLED_DEPS=OFF -DBUILD_LIBSCAP_MODERN_BPF=ON -DCREATE_TEST_TARGETS=OFF \
        -DBUILD_DRIVER=OFF -DBUILD_LIBSCAP_GVISOR=OFF -DCMAKE_BUILD_TYPE=Release ..
  make -j2 scap-open   # builds the probe skeleton too
  FALCO_SCAP_OPEN=$PWD/libscap/examples/01-open/scap-open bash benches/falco_probe.sh
(needs cmake, clang >= 12, bpftool, libelf, zlib, uthash, cxxopts, jsoncpp, re2, tbb, valijson
and libbpf >= 1.2 headers: with Debian 12's libbpf 1.1 add -DLIBBPF_INCLUDE=… -DLIBBPF_LIB=…
pointing at a libbpf 1.3 build; BENCHMARKS.md has the exact commands)
EOF
    exit 2
fi
export STORM_RULES=${STORM_RULES:-falco_rules.yaml}
export STORM_MONITOR_CPU=${STORM_PROBE_CPU:-${STORM_MONITOR_CPU:-1}}
# storm_common.sh builds frule-monitor too unless told not to: only the load generator is needed
build_load=${STORM_NO_BUILD:-}
export STORM_NO_BUILD=1
# shellcheck source=benches/storm_common.sh
source "$(dirname "$0")/storm_common.sh"
if [ -z "$build_load" ]; then
    (cd "$root" && cargo build --release -q -p frule-capture-bpf --example syscall_load)
fi
probe_pid=
stats_was=$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null || echo 0)
cleanup() {
    if [ -n "$probe_pid" ]; then kill -INT "$probe_pid" 2>/dev/null || true; wait "$probe_pid" 2>/dev/null || true; fi
    sysctl -q kernel.bpf_stats_enabled="$stats_was" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# libsinsp's state set at libs 48dfd53cd (scap_get_modifies_state_ppm_sc): what Falco traces
# whatever the rules say
state_sc="open close creat chdir mount dup pipe fcntl chroot dup2 setsid setrlimit fchdir prctl
capset setreuid setregid setresuid setresgid setuid setgid epoll_create inotify_init openat signalfd
timerfd_create eventfd signalfd4 eventfd2 epoll_create1 dup3 pipe2 inotify_init1 prlimit64 socket
bind connect accept socketpair sendto recvfrom shutdown getsockopt sendmsg sendmmsg recvmsg recvmmsg
accept4 fcntl64 umount fork vfork setuid32 setgid32 setresuid32 setresgid32 userfaultfd openat2
umount2 execve execveat clone clone3 open_by_handle_at io_uring_setup memfd_create pidfd_getfd
pidfd_open close_range sched_process_exit"
rules_sc=$(for f in $rules_files; do
    grep -o 'evt\.type *\(in *([^)]*)\|= *[a-z0-9_]*\)' "$rules_dir/$f" || true
done | sed 's/evt\.type *\(in\|=\) *//' | tr -d '()' | tr ', ' '\n' | grep -v '^$' | sort -u | tr '\n' ' ')
names=${FALCO_PPM_SC:-"$state_sc $rules_sc"}
supported=$("$scap_open" --print_syscalls 2>/dev/null)
ppm_args=()
traced=" "
for n in $names; do
    case $traced in *" $n "*) continue ;; esac
    code=$(echo "$supported" | awk -v n="$n" '$3 == ">" && $4 == n { gsub(/[()]/, "", $NF); print $NF }')
    if [ -z "$code" ]; then
        echo "$bench: '$n' is not a ppm_sc name this scap-open knows: skipped" >&2
        continue
    fi
    ppm_args+=(--ppm_sc "$code")
    traced="$traced$n "
done

preload=
cap_eff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
if [ "$(ulimit -Hl)" != unlimited ] && (((0x$cap_eff >> 24 & 1) == 0)); then # no CAP_SYS_RESOURCE
    cat >"$work/memlock.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/resource.h>
/* libpman insists on RLIMIT_MEMLOCK = unlimited; the kernel (>= 5.11) no longer uses it for eBPF */
int setrlimit(__rlimit_resource_t r, const struct rlimit *l) {
    if (r == RLIMIT_MEMLOCK) return 0;
    int (*next)(__rlimit_resource_t, const struct rlimit *) = dlsym(RTLD_NEXT, "setrlimit");
    return next(r, l);
}
EOF
    cc -shared -fPIC -O2 -o "$work/memlock.so" "$work/memlock.c" -ldl
    preload=$work/memlock.so
fi

prog_ids() { # the ids of every loaded eBPF program
    bpftool prog show 2>/dev/null | awk '/ name / { id = $1; sub(/:$/, "", id); printf "%s ", id }'
}
new_probe_ids() { # BEFORE: ids of the programs loaded since BEFORE, frule's left out
    bpftool prog show 2>/dev/null | awk -v before=" $1 " '
        / name / {
            id = $1; sub(/:$/, "", id); name = ""
            for (i = 1; i < NF; i++) if ($i == "name") name = $(i + 1)
            if (!index(before, " " id " ") && name !~ /^frule_/) printf "%s ", id
        }'
}
start_probe() { # LOG: starts scap-open on the probe cpu and waits until it captures
    local log=$1
    taskset -c "$mon_cpu" env ${preload:+LD_PRELOAD="$preload"} stdbuf -oL "$scap_open" --modern_bpf \
        --buffer_dim "$buffer_bytes" --cpus_for_buf "$cpus_for_buf" "${ppm_args[@]}" >"$log" 2>&1 &
    probe_pid=$!
    for _ in $(seq 1 600); do
        grep -q 'Live capture in progress' "$log" && { sleep 1; return 0; }
        if ! kill -0 "$probe_pid" 2>/dev/null; then
            echo "$bench: scap-open exited before capturing:" >&2
            cat "$log" >&2
            probe_pid=
            exit 1
        fi
        sleep 0.1
    done
    echo "$bench: scap-open did not start capturing within 60 s" >&2
    exit 1
}
stop_probe() { # stops scap-open (SIGINT: it prints its counters and detaches)
    kill -INT "$probe_pid"
    wait "$probe_pid" || true
    probe_pid=
}
stat_of() { # LOG NAME: a u64 counter from scap-open's final statistics
    awk -v n="$2" '$2 == n ":" { print $3; exit }' "$1"
}

echo "falco modern_bpf probe: ${secs}s per run, load on cpu $load_cpu, scap-open on cpu $mon_cpu"
echo "scap-open: $scap_open (1 buffer of $buffer_bytes bytes per $cpus_for_buf cpus${preload:+, RLIMIT_MEMLOCK bump preloaded away})"
echo "kernel $(uname -r), $(nproc) cpus, load generator's fd table: $fdtable"
echo "traced ($(( ${#ppm_args[@]} / 2 )) ppm_sc: libsinsp state set + evt.types of $rules_files):$traced"
for mode in $modes; do
    if [ "$mode" = untraced ]; then
        case $traced in *" getppid "*)
            echo "$bench: getppid is traced: the untraced mode would measure nothing" >&2; exit 2 ;;
        esac
    fi
    base=$(taskset -c "$load_cpu" "$load" "$mode" "$secs")

    before=$(prog_ids)
    start_probe "$work/probe.$mode"
    t0=$(ticks "$probe_pid")
    w0=$(date +%s.%N)
    loaded=$(taskset -c "$load_cpu" "$load" "$mode" "$secs")
    sleep 1.2
    w1=$(date +%s.%N)
    t1=$(ticks "$probe_pid")
    stop_probe
    log=$work/probe.$mode
    k=$(stat_of "$log" n_evts)
    d=$(stat_of "$log" n_drops)
    dbuf=$(stat_of "$log" n_drops_buffer_total)
    # shellcheck disable=SC2016 # the backquotes are literal, in scap-open's output
    e=$(sed -n 's/^Number of `SCAP_SUCCESS` (events correctly captured): //p' "$log")
    run_s=$(sed -n 's/^Time elapsed: \([0-9]*\) s$/\1/p' "$log")
    if [ -z "$k" ] || [ -z "$e" ]; then
        echo "$bench: no statistics from scap-open in the $mode run:" >&2
        cat "$log" >&2
        exit 1
    fi

    # the run times in a window of their own: the statistics cost each program run a clock read
    before=$(prog_ids)
    start_probe "$work/stats.$mode"
    bpf_prog_ids=$(new_probe_ids "$before")
    stats=$(bpf_stats_window taskset -c "$load_cpu" "$load" "$mode" "$stats_secs")
    bpf_prog_ids=
    stop_probe

    base2=$(taskset -c "$load_cpu" "$load" "$mode" "$secs")
    awk -v mode="$mode" \
        -v bops1="$(field ops_per_s "$base")" -v bsys1="$(field syscalls_per_s "$base")" \
        -v bops2="$(field ops_per_s "$base2")" -v bsys2="$(field syscalls_per_s "$base2")" \
        -v lops="$(field ops_per_s "$loaded")" -v lsys="$(field syscalls_per_s "$loaded")" \
        -v bcpu1="$(field cpu_ns_per_op "$base")" -v bcpu2="$(field cpu_ns_per_op "$base2")" \
        -v lcpu="$(field cpu_ns_per_op "$loaded")" -v lsecs="$(field seconds "$loaded")" \
        -v lops_n="$(field ops "$loaded")" -v lsys_n="$(field syscalls "$loaded")" \
        -v k="$k" -v e="$e" -v d="${d:-0}" -v dbuf="${dbuf:-0}" -v run_s="${run_s:-0}" \
        -v cpu="$((t1 - t0))" -v clk="$clk" -v w0="$w0" -v w1="$w1" '
    BEGIN {
        wall = w1 - w0; cpu_s = cpu / clk
        bops = (bops1 + bops2) / 2; bsys = (bsys1 + bsys2) / 2; bcpu = (bcpu1 + bcpu2) / 2
        per_op = (lops_n > 0 ? lsys_n / lops_n : 1)
        added = (lcpu - bcpu) / per_op
        printf "\n[%s]\n", mode
        printf "  workload alone:        %10.0f ops/s  %10.0f syscalls/s  (mean of %.0f before and %.0f after)\n", bops, bsys, bops1, bops2
        printf "  workload with probe:   %10.0f ops/s  %10.0f syscalls/s  (wall-clock slowdown %.1f%%)\n", lops, lsys, 100 * (bops / (lops > 0 ? lops : 1) - 1)
        printf "  workload cpu per op:   %10.0f ns alone (%.0f before, %.0f after), %.0f ns with probe: %+.0f ns per syscall\n", bcpu, bcpu1, bcpu2, lcpu, added
        printf "  probe events:          %10.0f /s     (%d seen by the probe over scap-open'"'"'s %d s run, all processes; per %.2f s of load)\n", k / lsecs, k, run_s, lsecs
        printf "  received events:       %10.0f /s     (%d), drops %d (%.2f%%; buffer full %d)\n", e / lsecs, e, d, 100 * d / (k > 0 ? k : 1), dbuf
        printf "  scap-open cpu:         %.2f s over %.2f s = %.0f%% of a core (drain and count only: no rule evaluation)\n", cpu_s, wall, 100 * cpu_s / wall
    }'
    # a kernel without kprobes refuses the ia-32 TOCTOU programs (ENOENT, a warning): for open,
    # creat, openat2 and connect only those are missing, but libpman attaches openat's ia-32
    # programs before its 64-bit one and gives up on that too (see BENCHMARKS.md): whether
    # openat_e runs shows in the run times below
    grep -o "failure while attaching TOCTOU mitigation program for '[a-z0-9]*'" "$log" |
        sed "s/^/  scap-open warning:     /" || true
    echo "  eBPF programs, ${stats_secs}s more of the same load with kernel.bpf_stats_enabled=1 (all processes' syscalls):"
    echo "$stats"
done
