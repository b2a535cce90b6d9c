#!/usr/bin/env bash
# C unit tests of src/core and src/model, under AddressSanitizer + UBSan.
#
# Each test/unit/test_X.c is compiled on its own with the core and model sources into
# build/unit/test_X and run.  A test binary prints "PASS <name>" / "FAIL <name>: ..."
# lines; a binary that fails to build, crashes or exits non-zero without a FAIL line
# counts as one failure.  The last line is "N passed, M failed"; exit 1 on any failure.
#
#   scripts/unit.sh              all tests
#   scripts/unit.sh test_crc     only test/unit/test_crc*.c
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

CC="${CC:-cc}"
# shellcheck disable=SC2054 # the comma is part of -fsanitize=
CFLAGS=(-std=gnu99 -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -Isrc)
LIBS=(-llapacke -llapack -lblas -lm)
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
TIMEOUT="${UNIT_TIMEOUT:-300}"

shopt -s nullglob
lib_srcs=(src/core/*.c src/model/*.c)
tests=(test/unit/"${1:-test_}"*.c)
mkdir -p build/unit

passed=0
failed=0
if [ ${#tests[@]} -eq 0 ]; then
	echo "no unit tests found (test/unit/${1:-test_}*.c)"
fi
for src in "${tests[@]}"; do
	name="$(basename "$src" .c)"
	bin="build/unit/$name"
	log="build/unit/$name.log"
	if ! "$CC" "${CFLAGS[@]}" "${lib_srcs[@]}" "$src" "${LIBS[@]}" -o "$bin" >"build/unit/$name.build.log" 2>&1; then
		cat "build/unit/$name.build.log"
		echo "FAIL $name: does not compile"
		failed=$((failed + 1))
		continue
	fi
	timeout -k 10 "$TIMEOUT" "./$bin" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^PASS ' "$log")
	f=$(grep -c '^FAIL ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		case $rc in
		124 | 137) why="timed out after ${TIMEOUT}s" ;;
		*) why="exit status $rc without a FAIL line" ;;
		esac
		echo "FAIL $name: $why" >>"$log"
	fi
	if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ]; then
		echo "--- $name (exit $rc): $p passed, $f failed"
		cat "$log"
	else
		echo "--- $name: $p passed"
		grep '^PASS ' "$log" | sed 's/^/    /'
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
