#!/usr/bin/env bash
# bench/compare.sh: the benchmarks under a build of an earlier revision and
# a build of the working tree, in the same run, and the figures side by side.
#
#   bench/compare.sh [options] [BASE [BENCH...]]
#
# BASE is a revision (default HEAD~1); BENCH names benchmarks (trace, rules,
# ...; default: every bench/*.lua that reports its figures through
# bench/results.lua).  Both builds run the working tree's benchmark scripts,
# so that they measure the same thing, in their short form
# (MS_BENCH_QUICK=1) unless --full, under momsandbox and momsandbox-jit,
# taking turns (base, current, base, current, ...) for --rounds rounds; each
# figure is the best of its rounds.  A benchmark with a figure more than
# --threshold percent worse under the working tree then runs as many rounds
# again, and a figure still that much worse is a regression.  Figures
# marked baseline (pure-Lua loops, which do not depend on the engine) only
# show how noisy the machine was.
#
# Exit status: 0 no regression, 1 a regression, 2 a build or a benchmark
# failed (or a usage error).
#
# The whole script is one block, read before it runs: editing this file
# during a run does not change the run.
{
set -u

usage() {
  cat <<'EOF'
usage: bench/compare.sh [options] [BASE [BENCH...]]
  BASE                  revision to compare the working tree with (default HEAD~1)
  BENCH                 benchmark names, e.g. trace sweep (default: all that report figures)
options:
  -r, --rounds N        rounds per build, best kept (default 3)
  -t, --threshold PCT   slow-down that counts as a regression (default 10)
  -j, --jobs N          parallel compile jobs (default 2)
  --base-build DIR      use this existing build of BASE instead of building it
  --current-build DIR   use this existing build of the working tree
  --full                run the benchmarks at their full length (default: quick)
  --no-confirm          no second set of rounds for the benchmarks that look worse
  -h, --help            this help
EOF
}

die() { printf 'bench/compare.sh: %s\n' "$*" >&2; exit 2; }
note() { printf '%s\n' "$*" >&2; }
is_count() { case $1 in ''|*[!0-9]*) return 1 ;; *) [ "$1" -gt 0 ] ;; esac; }

rounds=3 threshold=10 jobs=2 base_build='' current_build='' quick=1 confirm=1
while [ $# -gt 0 ]; do
  case $1 in
    -r|--rounds) [ $# -ge 2 ] || die "$1 needs a value"; rounds=$2; shift 2 ;;
    --rounds=*) rounds=${1#*=}; shift ;;
    -t|--threshold) [ $# -ge 2 ] || die "$1 needs a value"; threshold=$2; shift 2 ;;
    --threshold=*) threshold=${1#*=}; shift ;;
    -j|--jobs) [ $# -ge 2 ] || die "$1 needs a value"; jobs=$2; shift 2 ;;
    --jobs=*) jobs=${1#*=}; shift ;;
    --base-build) [ $# -ge 2 ] || die "$1 needs a value"; base_build=$2; shift 2 ;;
    --base-build=*) base_build=${1#*=}; shift ;;
    --current-build) [ $# -ge 2 ] || die "$1 needs a value"; current_build=$2; shift 2 ;;
    --current-build=*) current_build=${1#*=}; shift ;;
    --full) quick=0; shift ;;
    --no-confirm) confirm=0; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    -*) usage >&2; die "unknown option: $1" ;;
    *) break ;;
  esac
done
is_count "$rounds" || die "--rounds: not a positive integer: $rounds"
is_count "$jobs" || die "--jobs: not a positive integer: $jobs"
case $threshold in
  ''|*[!0-9.]*|*.*.*|.) die "--threshold: not a number: $threshold" ;;
esac

base_rev=${1:-HEAD~1}
[ $# -gt 0 ] && shift

top=$(git rev-parse --show-toplevel 2>/dev/null) || die "not in a git checkout"
cd "$top" || die "cannot enter $top"
base_sha=$(git rev-parse --verify --quiet --end-of-options "$base_rev^{commit}") ||
  die "not a revision: $base_rev"

# The benchmarks: the names given, or every script that reports figures.
benches=()
if [ $# -gt 0 ]; then
  for b in "$@"; do
    b=${b##*/}; b=${b%.lua}
    case $b in ''|*[!A-Za-z0-9_-]*) die "not a benchmark name: $b" ;; esac
    [ -f "bench/$b.lua" ] || die "no benchmark bench/$b.lua"
    grep -q 'results\.lua' "bench/$b.lua" ||
      die "bench/$b.lua reports no figures (bench/results.lua)"
    benches+=("$b")
  done
else
  for f in bench/*.lua; do
    b=${f##*/}; b=${b%.lua}
    [ "$b" = results ] && continue
    grep -q 'results\.lua' "$f" && benches+=("$b")
  done
fi
[ ${#benches[@]} -gt 0 ] || die "no benchmark to run"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ms-bench-compare.XXXXXX") || die "mktemp failed"
worktree=''
# shellcheck disable=SC2317  # run by the trap
cleanup() {
  if [ -n "$worktree" ]; then
    git -C "$top" worktree remove --force "$worktree" >/dev/null 2>&1 ||
      { rm -rf "$worktree"; git -C "$top" worktree prune >/dev/null 2>&1; }
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'note "interrupted"; exit 130' INT
trap 'exit 143' TERM HUP

# build SOURCE_DIR BUILD_DIR LABEL: the CLIs and the engine library, which
# momsandbox-jit loads (tests and other targets are not needed).  Older
# revisions made momsandbox-jit at configure time, a script, not a target.
build() {
  local targets="momsandbox_cli momsandbox_core"
  note "== building $3 in $2"
  if ! cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$2.log" 2>&1; then
    tail -n 30 "$2.log" >&2; die "configuring $3 failed (log above)"
  fi
  grep -q 'add_executable(momsandbox_jit' "$1/CMakeLists.txt" && targets="$targets momsandbox_jit"
  # shellcheck disable=SC2086  # the target names are words
  if ! cmake --build "$2" -j "$jobs" --target $targets >>"$2.log" 2>&1; then
    tail -n 30 "$2.log" >&2; die "building $3 failed (log above)"
  fi
}

if [ -n "$base_build" ]; then
  base_dir=$(cd "$base_build" && pwd) || die "no build folder: $base_build"
else
  worktree=$tmp/base-src
  note "== checking out $base_rev ($(git log -1 --format='%h %s' "$base_sha")) in $worktree"
  git worktree add --detach --quiet "$worktree" "$base_sha" || die "git worktree add failed"
  base_dir=$tmp/base-build
  build "$worktree" "$base_dir" "$base_rev"
fi
if [ -n "$current_build" ]; then
  current_dir=$(cd "$current_build" && pwd) || die "no build folder: $current_build"
else
  current_dir=$tmp/current-build
  build "$top" "$current_dir" "the working tree"
fi
for d in "$base_dir" "$current_dir"; do
  [ -x "$d/momsandbox" ] || die "no $d/momsandbox"
done

# Each build's own library, whatever the caller's environment says.
unset MOMSANDBOX_LIB
export MS_BENCH_RESULTS=1
if [ "$quick" = 1 ]; then export MS_BENCH_QUICK=1; else unset MS_BENCH_QUICK; fi

# The interpreters a benchmark runs under: a header line "-- compare: X"
# names them; otherwise both, as far as both builds have them.
interpreters() {
  local wanted line i
  line=$(grep -m1 '^-- compare:' "bench/$1.lua")
  wanted=${line#-- compare:}
  [ -n "$line" ] || wanted='momsandbox momsandbox-jit'
  for i in $wanted; do
    case $i in momsandbox|momsandbox-jit) ;; *) continue ;; esac
    [ -x "$base_dir/$i" ] && [ -x "$current_dir/$i" ] && printf '%s\n' "$i"
  done
}

results=$tmp/results   # bench interp side name value unit better [baseline]
: >"$results"
failed=0

# run_pair ROUND BENCH INTERP: the benchmark under the base build, then
# under the current one.
run_pair() {
  local side dir out=$tmp/out
  for side in base current; do
    if [ $side = base ]; then dir=$base_dir; else dir=$current_dir; fi
    note "-- $1: $2 under $3, $side"
    if ! "$dir/$3" "bench/$2.lua" </dev/null >"$out" 2>"$tmp/err"; then
      note "bench/$2.lua failed under $dir/$3:"; cat "$tmp/err" >&2
      failed=1
      continue
    fi
    awk -v b="$2" -v i="$3" -v s="$side" \
      '$1 == "RESULT" && NF >= 5 { print b, i, s, $2, $3, $4, $5, $6 }' "$out" >>"$results"
  done
}

# summarize table|flagged: the table of the best figures, or the benchmarks
# (name and interpreter, one pair a line) with a figure over the threshold.
# Exit status 1 if there is such a figure.
summarize() {
  awk -v thr="$threshold" -v mode="$1" '
    {
      key = $1 SUBSEP $2 SUBSEP $4
      if (!(key in seen)) { seen[key] = 1; order[++n] = key; unit[key] = $6; better[key] = $7
                            base_line[key] = ($8 == "baseline") }
      v = $5 + 0; side = $3
      if (!((key, side) in best) || (better[key] == "lower" ? v < best[key, side] : v > best[key, side]))
        best[key, side] = v
    }
    function cell(key, side) { return ((key, side) in best) ? sprintf("%.4g", best[key, side]) : "-" }
    END {
      fmt = "%-9s %-15s %-26s %-14s %11s %11s %7s  %s\n"
      if (mode == "table")
        printf fmt, "benchmark", "interpreter", "figure", "unit", "base", "current", "ratio", ""
      bad = 0
      for (k = 1; k <= n; k++) {
        key = order[k]; split(key, p, SUBSEP); r = "-"; flag = ""
        if (!((key, "base") in best) || !((key, "current") in best)) flag = "missing"
        else if (best[key, "base"] > 0 && best[key, "current"] > 0) {
          a = best[key, "base"]; c = best[key, "current"]
          ratio = better[key] == "lower" ? c / a : a / c
          r = sprintf("%.3f", ratio)
          if (base_line[key]) flag = "(baseline)"
          else if (ratio > 1 + thr / 100) {
            flag = sprintf("REGRESSION (+%.0f%%)", 100 * (ratio - 1)); bad = 1
            if (mode == "flagged" && !((p[1], p[2]) in listed)) {
              listed[p[1], p[2]] = 1; print p[1], p[2]
            }
          }
        }
        if (mode == "table")
          printf fmt, p[1], p[2], p[3], unit[key], cell(key, "base"), cell(key, "current"), r, flag
      }
      exit bad
    }' "$results"
}

for ((round = 1; round <= rounds; round++)); do
  for b in "${benches[@]}"; do
    while IFS= read -r interp; do
      run_pair "round $round/$rounds" "$b" "$interp"
    done < <(interpreters "$b")
  done
done

# A figure that looks worse gets as many rounds again, for its benchmark
# only: on a busy machine one slow moment is common, a slow build is
# slow in every round.
extra=0
flagged=$(summarize flagged)
if [ -n "$flagged" ] && [ "$confirm" = 1 ]; then
  extra=$rounds
  note "== worse figures: $rounds more rounds of $(printf '%s' "$flagged" | tr '\n' ',' | sed 's/,/, /g')"
  for ((round = 1; round <= rounds; round++)); do
    while read -r b interp; do
      run_pair "confirming, round $round/$rounds" "$b" "$interp"
    done <<<"$flagged"
  done
fi

printf '\nbase: %s (%s)\ncurrent: the working tree at %s%s\n' "$base_rev" \
  "$(git log -1 --format='%h %s' "$base_sha")" "$(git log -1 --format='%h' HEAD)" \
  "$([ -n "$(git status --porcelain --untracked-files=no)" ] && echo ' with uncommitted changes')"
printf 'best of %s rounds%s (%s); ratio: current over base as a time, > 1 slower\n\n' "$rounds" \
  "$([ "$extra" -gt 0 ] && printf ', %s more for the benchmarks that looked worse' "$extra")" \
  "$([ "$quick" = 1 ] && echo 'quick runs' || echo 'full runs')"
summarize table
status=$?

if [ $failed = 1 ]; then note "some benchmarks failed (above)"; exit 2; fi
if [ $status = 1 ]; then
  printf '\nregression: a figure is more than %s%% worse than under %s\n' "$threshold" "$base_rev"
  exit 1
fi
[ $status = 0 ] || exit 2
printf '\nno figure is more than %s%% worse than under %s\n' "$threshold" "$base_rev"
exit 0
}
