#!/usr/bin/env bash
# Runs every fuzz target for a while and prints executions per second and coverage for each.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Seeds come from the repository's own
# test data and, when present, from the corpus beside the repository (read in place, never copied into git):
# they are written to fuzz/corpus/<target>/, which git ignores. Crashes land in fuzz/artifacts/<target>/;
# minimize them (`cargo +nightly fuzz tmin TARGET FILE`) and add them as regression inputs under
# fuzz/regressions/<target>/, which `cargo test -p frule-lang --test fuzz_regressions` replays on stable.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-30}"
shift || true
all_targets=(lex parse_condition check_condition format_output load_rules)
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
      ;;
  esac
}

for t in "${targets[@]}"; do cargo +nightly fuzz build -O "$t" >/dev/null; done
printf '%-18s %10s %12s %8s %8s\n' target seconds execs exec/s cov
for t in "${targets[@]}"; do
  seed "$t"
  dict=()
  [ -f "dict/condition.dict" ] && case "$t" in lex|parse_condition|check_condition) dict=(-dict=dict/condition.dict);; esac
  log="$(mktemp)"
  status=0
  cargo +nightly fuzz run -O "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 "${dict[@]}" >"$log" 2>&1 || status=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  rate=$(( secs > 0 ? execs / secs : 0 ))
  printf '%-18s %10s %12s %8s %8s\n' "$t" "$secs" "$execs" "$rate" "$cov"
  if [ "$status" -ne 0 ]; then
    echo "fuzz: $t failed (exit $status); last lines of its log:"
    tail -30 "$log"
    exit 1
  fi
  rm -f "$log"
done
