#!/usr/bin/env bash
# Runs every fuzz target for a while and prints executions per second and coverage for each.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Seeds come from the repository's own
# test data and, when present, from the corpus beside the repository (read in place, never copied into git):
# they are written to fuzz/corpus/<target>/, which git ignores. Crashes land in fuzz/artifacts/<target>/;
# minimize them (`cargo +nightly fuzz tmin TARGET FILE`) and add them as regression inputs under
# fuzz/regressions/<target>/, which `cargo test -p frule --test fuzz_regressions` replays on stable.
#
# Set FUZZ_LOG_DIR to keep each target's libFuzzer log there (<target>.log). Set FUZZ_BIN_DIR to run
# already built target binaries from that directory instead of building (useful in a checkout others
# keep editing, where every `cargo fuzz run` would rebuild).
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-30}"
shift || true
all_targets=(lex parse_condition check_condition format_output load_rules scap_reader eval_differential yaml_fastpath container_answers)
targets=("${@:-${all_targets[@]}}")
corpus_root="${FRULE_CORPUS:-$(pwd)/../../shared/corpus}"

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz: no nightly toolchain; skipping the fuzz run"
  exit 0
fi
if ! cargo +nightly fuzz --help >/dev/null 2>&1; then
  echo "fuzz: cargo-fuzz is not installed (cargo install cargo-fuzz); skipping the fuzz run"
  exit 0
fi

seed() {
  local target="$1" dir="corpus/$1"
  mkdir -p "$dir"
  case "$target" in
    lex|parse_condition|check_condition)
      # Every condition of the parser's case files, one seed each.
      python3 - "$dir" ../lang/tests/data/parser <<'PY'
import hashlib, os, re, sys
out, src = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(src)):
    for line in open(os.path.join(src, name), encoding="utf-8", errors="replace"):
        m = re.match(r"\s*-?\s*(?:input|condition):\s*(.*)$", line)
        if not m:
            continue
        text = m.group(1).strip().strip("'\"")
        if text:
            h = hashlib.sha1(text.encode()).hexdigest()[:16]
            open(os.path.join(out, h), "w").write(text)
PY
      ;;
    format_output)
      printf '%s' '%proc.name %fd.name' >"$dir/basic"
      printf '%s' '*%10proc.name %toupper(user.name) %proc.aname[2] %evt.arg.flags' >"$dir/forms"
      ;;
    load_rules)
      cp ../rules/frule_rules.yaml "$dir/frule_rules.yaml"
      if [ -d "$corpus_root/falco-regression/rules" ]; then
        find "$corpus_root/falco-regression/rules" -name '*.yaml' -size -64k -exec cp {} "$dir/" \;
      fi
      # structured rules files: a control byte, then bytes the generator reads (see src/load_rules.rs)
      for i in 1 2 3 4 5 6 7 8; do
        { printf '\001'; head -c 256 /dev/urandom; } >"$dir/structured-$i"
      done
      ;;
    scap_reader)
      # plain, trimmed copies of the corpus captures (section header, small state blocks, first events)
      if [ -d "$corpus_root/scap" ]; then
        python3 seed_scap.py "$dir" "$corpus_root/scap"
      fi
      ;;
    eval_differential)
      for i in 1 2 3 4 5 6 7 8; do head -c 512 /dev/urandom >"$dir/random-$i"; done
      ;;
    yaml_fastpath)
      # rules files as people write them (the fast path's home ground), read in place
      # (named by content: many corpus files share a name)
      local roots=(../rules ../lang/tests/data)
      [ -d "$corpus_root" ] && roots+=("$corpus_root")
      find "${roots[@]}" \( -name '*.yaml' -o -name '*.yml' \) -size -64k -print0 |
        while IFS= read -r -d '' f; do cp "$f" "$dir/$(sha1sum <"$f" | cut -c1-16).yaml"; done
      ;;
    container_answers)
      # a selector byte (see src/container_answers.rs), then a runtime's answer: the Docker/CRI-O JSON
      # of the runtime's tests, and containerd messages built by seed_containerd.py
      for f in ../runtime/tests/data/container/*.json; do
        { printf '\003'; cat "$f"; } >"$dir/crio-$(basename "$f")"
        { printf '\004'; cat "$f"; } >"$dir/docker-$(basename "$f")"
      done
      python3 seed_containerd.py "$dir"
      ;;
  esac
}

if [ -z "${FUZZ_BIN_DIR:-}" ]; then
  for t in "${targets[@]}"; do cargo +nightly fuzz build -O "$t" >/dev/null; done
fi
# seconds: wall time of the run; exec/s: executions per wall second; cpu/s: per CPU second of the fuzzer
# (on a shared machine the wall rate mostly measures the other load); rss: libFuzzer's peak RSS in MB
printf '%-18s %8s %12s %8s %8s %8s %8s %6s\n' target seconds execs exec/s cpu/s cov ft rss
for t in "${targets[@]}"; do
  seed "$t"
  opts=()
  case "$t" in
    lex|parse_condition|check_condition) opts=(-dict=dict/condition.dict);;
    load_rules) opts=(-dict=dict/rules.dict);;
    # captures: inputs up to 128 KiB; no single allocation above 256 MiB (a block's declared length
    # must not turn into an allocation)
    scap_reader) opts=(-dict=dict/scap.dict -max_len=131072 -malloc_limit_mb=256);;
    eval_differential) opts=(-max_len=4096);;
    yaml_fastpath) opts=(-dict=dict/yaml.dict -max_len=65536);;
    container_answers) opts=(-max_len=65536);;
  esac
  log="$(mktemp)"
  times="$(mktemp)"
  timed=()
  [ -x /usr/bin/time ] && timed=(/usr/bin/time -o "$times" -f '%U %S')
  status=0
  start=$SECONDS
  opts+=(-max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1)
  if [ -n "${FUZZ_BIN_DIR:-}" ]; then
    mkdir -p "artifacts/$t"
    "${timed[@]}" "$FUZZ_BIN_DIR/$t" -artifact_prefix="artifacts/$t/" "${opts[@]}" "corpus/$t" >"$log" 2>&1 || status=$?
  else
    "${timed[@]}" cargo +nightly fuzz run -O "$t" "corpus/$t" -- "${opts[@]}" >"$log" 2>&1 || status=$?
  fi
  wall=$(( SECONDS - start ))
  [ -n "${FUZZ_LOG_DIR:-}" ] && cp "$log" "$FUZZ_LOG_DIR/$t.log"
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  rss=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  cpurate=$(awk -v n="$execs" '/^[0-9.]+ [0-9.]+$/ && $1 + $2 > 0 { printf "%d", n / ($1 + $2) }' "$times" 2>/dev/null || true)
  rate=$(( wall > 0 ? execs / wall : 0 ))
  printf '%-18s %8s %12s %8s %8s %8s %8s %6s\n' "$t" "$wall" "$execs" "$rate" "${cpurate:-?}" "$cov" "$ft" "$rss"
  if [ "$status" -ne 0 ]; then
    echo "fuzz: $t failed (exit $status); last lines of its log:"
    tail -30 "$log"
    exit 1
  fi
  rm -f "$log" "$times"
done
