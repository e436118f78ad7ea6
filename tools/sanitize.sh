#!/usr/bin/env bash
# Builds infokit with AddressSanitizer + UBSan into a scratch venv and runs the test suite under
# it, with the sanitizer runtimes preloaded into the (uninstrumented) Python interpreter.
# Any out-of-bounds access, use-after-free or undefined behaviour in the kernels aborts the run
# with a report. LeakSanitizer cannot tell CPython's until-exit allocations from ours, so leaks are
# checked instead by tools/leakcheck.py: every kernel called many times must not grow the RSS.
# Usage: tools/sanitize.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv="${SANITIZE_VENV:-$root/build/sanitize-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q scikit-build-core pybind11 cython cython-cmake ninja numpy scipy \
  threadpoolctl
"$venv/bin/pip" install -q --no-build-isolation ".[test]" \
  -Ccmake.define.INFOKIT_SANITIZE=ON -Cbuild-dir="$root/build/sanitize" \
  -Ccmake.build-type=RelWithDebInfo

asan=$(g++ -print-file-name=libasan.so)
ubsan=$(g++ -print-file-name=libubsan.so)
cd "$root"
LD_PRELOAD="$asan:$ubsan" PYTHONMALLOC=malloc \
  ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
# No quarantine, so freed memory is reused and only a real leak grows the process.
LD_PRELOAD="$asan:$ubsan" ASAN_OPTIONS="detect_leaks=0:quarantine_size_mb=0" \
  "$venv/bin/python" tools/leakcheck.py
echo "sanitize: clean"
