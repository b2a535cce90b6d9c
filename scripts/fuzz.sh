#!/usr/bin/env bash
#
# scripts/fuzz.sh
#	  Build the model-decoder fuzz target (test/fuzz/fuzz_model.c) with
#	  libFuzzer, ASan and UBSan, generate a seed corpus, and fuzz for a
#	  bounded time.  Ends with "N passed, M failed": 1 passed when the
#	  fuzzer found nothing, 1 failed (and a non-zero exit) on a crash.
#
#	  FUZZ_SECONDS   run time (default 60)
#	  CC             compiler with libFuzzer (default clang, else clang-14)
#
set -euo pipefail

cd "$(dirname "$0")/.."

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
OUT=build/fuzz
if [ -z "${CC:-}" ] || ! "$CC" --version 2>/dev/null | grep -q clang; then
	if command -v clang >/dev/null 2>&1; then
		CC=clang
	else
		CC=clang-14
	fi
fi

SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
CFLAGS="-std=gnu99 -g -O1 -fno-omit-frame-pointer -Isrc"
LIBS="-llapacke -llapack -lblas -lm"

mkdir -p "$OUT/corpus" "$OUT/artifacts"

echo "fuzz: building with $CC"
# shellcheck disable=SC2086
"$CC" $CFLAGS -fsanitize=fuzzer $SAN -o "$OUT/fuzz_model" \
	test/fuzz/fuzz_model.c src/core/*.c src/model/*.c $LIBS
# shellcheck disable=SC2086
"$CC" $CFLAGS $SAN -o "$OUT/make_seeds" \
	test/fuzz/make_seeds.c src/core/*.c src/model/*.c $LIBS

echo "fuzz: generating seed corpus"
"$OUT/make_seeds" "$OUT/corpus"
seed_dirs=("$OUT/corpus")
if [ -d test/fuzz/corpus ]; then
	seed_dirs+=(test/fuzz/corpus)
fi

echo "fuzz: running for ${FUZZ_SECONDS}s"
rc=0
"$OUT/fuzz_model" \
	-max_total_time="$FUZZ_SECONDS" \
	-max_len=4096 \
	-timeout=10 \
	-rss_limit_mb=2048 \
	-print_final_stats=1 \
	-artifact_prefix="$OUT/artifacts/" \
	"${seed_dirs[@]}" 2>&1 | tee "$OUT/fuzz.log" || rc=$?

if [ "$rc" -eq 0 ]; then
	echo "1 passed, 0 failed"
else
	echo "fuzz: crash or failure (exit $rc); reproducers in $OUT/artifacts/"
	echo "0 passed, 1 failed"
	exit 1
fi
