#!/usr/bin/env bash
# Set up and run every test of hdrq on Debian 12 (as root: the live and
# differential tests load BPF programs and build network namespaces).
#
#   1. scripts/deps.sh                   Debian packages (skipped when present)
#   2. build/      RelWithDebInfo build, then `ctest`: unit, verifier, live
#                  (netns + veth + real traffic), differential (vs tshark)
#   3. build-san/  clang-19, ASan+UBSan (-DHQ_SANITIZE=ON) and the libFuzzer
#                  target (-DHQ_FUZZ=ON): every test but live/diff, including
#                  a bounded fuzzing run of the frontend
#
# Environment: JOBS (default: nproc), HQ_SKIP_SAN=1 skips step 3,
# CTEST_ARGS adds arguments to both ctest runs (e.g. "-R live_").
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
san_status=0

step() { printf '\n=== %s\n' "$*"; }

step "dependencies"
./scripts/deps.sh

step "build (build/)"
mkdir -p build && cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >build/configure.log 2>&1 ||
  { cat build/configure.log; exit 1; }
cmake --build build -j"$JOBS"

step "tests (build/)"
# live tests are RUN_SERIAL; the rest run two at a time
set +e
ctest --test-dir build --output-on-failure -j"$JOBS" ${CTEST_ARGS:-}
main_status=$?
set -e
for s in build/tests/diff/*.summary.json; do
  [ -e "$s" ] && jq -r '"agreement " + .name + ": " + ([.fields[] | .agreed] | add | tostring) + " of " +
      ([.fields[] | .agreed + .disagreed + .hq_only] | add | tostring) + " values agree over " +
      (.frames | tostring) + " frames"' "$s" 2>/dev/null || true
done

if [ "${HQ_SKIP_SAN:-0}" != 1 ]; then
  step "sanitizer + fuzz build (build-san/: clang-19, ASan+UBSan, libFuzzer)"
  mkdir -p build-san && CC=clang-19 cmake -S . -B build-san -DCMAKE_BUILD_TYPE=Debug -DHQ_SANITIZE=ON -DHQ_FUZZ=ON \
    >build-san/configure.log 2>&1 || { cat build-san/configure.log; exit 1; }
  cmake --build build-san -j"$JOBS"
  step "tests (build-san/, all but live and diff)"
  set +e
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    HQ_GEN_N=${HQ_GEN_N_SAN:-200} ctest --test-dir build-san --output-on-failure -j"$JOBS" -LE '^(live|diff)$' ${CTEST_ARGS:-}
  san_status=$?
  set -e
fi

step "result"
echo "build/: ctest exit $main_status; build-san/: ctest exit $san_status"
[ "$main_status" -eq 0 ] && [ "$san_status" -eq 0 ]
