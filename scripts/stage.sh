# Sourced by example.sh and test.sh: `stage` runs one step of a script with
# its output in a log file, printing one line for it.
#
#   stage 2/3 "building torii" build/logs/build.log scripts/build.sh --target torii
#
# prints `[2/3] building torii (log: build/logs/build.log) ... done in 95 s`;
# when the command fails, the log (without ninja's `[n/N] ...` progress lines,
# its last 300 lines if it is longer) follows, and the script exits with the
# command's status.

stage() {
  local step="$1" what="$2" log="$3"
  shift 3
  mkdir -p "$(dirname "$log")"
  printf '[%s] %s (log: %s) ... ' "$step" "$what" "$log"
  local start=$SECONDS rc=0
  "$@" >"$log" 2>&1 </dev/null || rc=$?
  if [ "$rc" -eq 0 ]; then
    echo "done in $((SECONDS - start)) s"
    return 0
  fi
  echo "FAILED (exit $rc)"
  echo "---- $log ----"
  grep -v -E '^\[[0-9]+/[0-9]+\] ' "$log" | tail -n 300
  echo "---- $what failed (exit $rc); the whole output is in $log ----"
  exit "$rc"
}
