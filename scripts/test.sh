#!/usr/bin/env bash
# make test: install what is missing (build + test packages), build with CI=true
# (-Werror), install, start the throwaway cluster, run every suite:
#
#   unit        scripts/unit.sh (C, ASan + UBSan)
#   regress     make installcheck (pg_regress, sql/ + expected/)
#   accuracy    test/accuracy/run.py (vs scikit-learn / statsmodels)
#   jdbc        test/jdbc/run.sh (PostgreSQL JDBC driver, as a BI tool would)
#   cron        test/cron/run.sh (pg_cron jobs; its own cluster on port ML_PORT+1)
#   security    test/security/run.py (hostile and victim roles)
#   fuzz        scripts/fuzz.sh, FUZZ_SECONDS=30
#   regress-18, accuracy-18, jdbc-18
#               the same suites against PostgreSQL 18, built once from
#               ../shared/vendor by scripts/pg18.sh into a cache outside the
#               checkout; ml_ext is built in a copy of the tree (build/pg18/tree,
#               so this checkout's objects stay those of PG_CONFIG's server) and
#               tested on its own cluster on port ML_PORT+2.  Where the source
#               is absent they print one "skipped" line and count as neither.
#   dump-restore-18
#               test/upgrade/pg_upgrade.sh with ML_UPGRADE_METHOD=dump: the same
#               models moved to PostgreSQL 18 by pg_dump and pg_restore
#   pg_upgrade-18
#               test/upgrade/pg_upgrade.sh: a cluster of PG_CONFIG's server with a
#               model of every algorithm, pg_upgrade to PostgreSQL 18, same scores.
#               Only when named in ML_SUITES: pg_upgrade from Debian's 15.20 to
#               18.6 fails for any database with a table (15.20 stores a
#               "pg_attver" column option that 18.6 rejects), ml_ext or not.
#
# The last line printed is "N passed, M failed" (summed over suites); the exit status
# is non-zero on any failure.  The cluster is stopped at the end unless ML_KEEP_CLUSTER=1.
# ML_SUITES="unit regress" runs a subset.
set -uo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$MLX_ROOT" || exit 1

SUITES="${ML_SUITES:-unit regress accuracy jdbc cron security fuzz regress-18 accuracy-18 jdbc-18 dump-restore-18}"
# set by the PostgreSQL 18 run (section 8) for the copy it runs: "-18"
SUFFIX="${ML_SUITE_SUFFIX:-}"
LOGDIR="$MLX_ROOT/build/test"
total_passed=0
total_failed=0
summary=()
started_cluster=0

# record SUITE PASSED FAILED [NOTE]
record() {
	total_passed=$((total_passed + $2))
	total_failed=$((total_failed + $3))
	summary+=("$(printf '  %-15s %4d passed, %4d failed%s' "$1$SUFFIX" "$2" "$3" "${4:+  ($4)}")")
}

want() { case " $SUITES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# "N passed, M failed" as the last such line of file $1 -> "N M" (empty when absent)
counts_of() {
	grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1 | sed -E 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/'
}

# A suite that prints its own final "N passed, M failed" line.
run_counted() {
	local name="$1" log="$LOGDIR/$1.log" rc c p f note=""
	shift
	echo
	echo "=============== $name ==============="
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	c="$(counts_of "$log")"
	if [ -z "$c" ]; then
		p=0 f=1 note="no summary line, exit status $rc"
	else
		read -r p f <<<"$c"
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1 note="exit status $rc"
		fi
	fi
	record "$name" "$p" "$f" "$note"
}

cleanup() {
	if [ "$started_cluster" = 1 ] && [ "${ML_KEEP_CLUSTER:-0}" != 1 ]; then
		started_cluster=0
		(mlx_cluster_stop) >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- set-up: a failure here is fatal (nothing to test)
(mlx_deps core test) || { echo "0 passed, 1 failed"; exit 1; }
export CI=true
make -C "$MLX_ROOT" clean PG_CONFIG="$MLX_PG_CONFIG" >/dev/null 2>&1 || true
mkdir -p "$LOGDIR"
built=1
if ! mlx_build 2>&1 | tee "$LOGDIR/build.log"; then
	built=0
elif ! (mlx_install) >"$LOGDIR/install.log" 2>&1; then
	cat "$LOGDIR/install.log"
	built=0
fi
if [ "$built" = 0 ]; then
	record build 0 1 "build or install failed, see above"
fi
if [ "$built" = 1 ] && { want regress || want accuracy || want jdbc || want security; }; then
	started_cluster=1 # stop it at exit even when start fails half-way
	if (mlx_cluster_start); then
		mlx_cluster_export
	else
		record cluster 0 1 "could not start the throwaway cluster"
		built=0
	fi
fi

# ---- 1. unit
if want unit; then
	run_counted unit scripts/unit.sh
fi

# ---- 2. pg_regress
if want regress && [ "$built" = 1 ]; then
	echo
	echo "=============== regress ==============="
	log="$LOGDIR/regress.log"
	rm -rf build/regress
	mkdir -p build/regress
	if ! compgen -G "sql/*.sql" >/dev/null; then
		echo "no pg_regress tests (sql/*.sql)"
		record regress 0 1 "no tests in sql/"
	else
		# a test without expected output would abort pg_regress: fail it, run the others
		tests=() nomiss=0
		for s in sql/*.sql; do
			t="$(basename "$s" .sql)"
			if [ -f "expected/$t.out" ]; then
				tests+=("$t")
			else
				echo "test $t ... FAILED (expected/$t.out is missing)"
				nomiss=$((nomiss + 1))
			fi
		done
		: >"$log"
		rc=0
		if [ ${#tests[@]} -gt 0 ]; then
			make -C "$MLX_ROOT" installcheck PG_CONFIG="$MLX_PG_CONFIG" REGRESS="${tests[*]}" 2>&1 | tee "$log"
			rc=${PIPESTATUS[0]}
		fi
		# PG15: "test NAME ... ok   12 ms", "     NAME ... FAILED   12 ms" (parallel groups);
		# PG16 and later (TAP): "ok 1         - NAME   12 ms", "not ok 2     - NAME   12 ms"
		p=$(grep -cE '^(test | +)[^ ]+ +\.\.\. ok|^ok +[0-9]+ +[-+] ' "$log")
		f=$(grep -cE '^(test | +)[^ ]+ +\.\.\. (FAILED|failed)|^not ok +[0-9]+ +[-+] ' "$log")
		f=$((f + nomiss))
		note=""
		[ "$nomiss" -eq 0 ] || note="$nomiss without expected output"
		if [ "$rc" -ne 0 ] && [ "$f" -eq "$nomiss" ]; then
			f=$((f + 1)) note="${note:+$note; }make installcheck exit status $rc"
		fi
		if [ -s build/regress/regression.diffs ] && { [ "$f" -gt 0 ] || [ "$rc" -ne 0 ]; }; then
			echo "--- build/regress/regression.diffs"
			cat build/regress/regression.diffs
		fi
		record regress "$p" "$f" "$note"
	fi
fi

# ---- 3. accuracy vs scikit-learn / statsmodels
if want accuracy && [ "$built" = 1 ]; then
	echo
	echo "=============== accuracy ==============="
	log="$LOGDIR/accuracy.log"
	note=""
	if mlx_fresh_db ml_accuracy; then
		PGDATABASE=ml_accuracy "$MLX_PYTHON" test/accuracy/run.py 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
	else
		echo "FAIL accuracy: could not create database ml_accuracy" | tee "$log"
		rc=1
	fi
	p=$(grep -c '^PASS ' "$log")
	f=$(grep -c '^FAIL ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 note="exit status $rc without a FAIL line"
	fi
	record accuracy "$p" "$f" "$note"
fi

# ---- 4. JDBC (a fresh database ml_jdbc on the throwaway cluster)
if want jdbc && [ "$built" = 1 ]; then
	run_counted jdbc bash test/jdbc/run.sh
fi

# ---- 5. pg_cron (a second throwaway cluster with pg_cron preloaded)
# A server named by PG_CONFIG may have no pg_cron (PostgreSQL 18 built by
# scripts/pg18.sh): one line, not a failure.  Debian's server gets it from
# the test packages, so there a missing pg_cron fails the suite.
cron_lib="$("$MLX_PG_CONFIG" --pkglibdir)/pg_cron.so"
if want cron && [ "$built" = 1 ] && [ -n "${PG_CONFIG:-}" ] && [ ! -f "$cron_lib" ]; then
	echo
	echo "cron: skipped (pg_cron is not installed for PostgreSQL $MLX_PG_MAJOR: no $cron_lib)"
	summary+=("  cron: skipped (pg_cron is not installed for PostgreSQL $MLX_PG_MAJOR)")
elif want cron && [ "$built" = 1 ]; then
	run_counted cron bash test/cron/run.sh
fi

# ---- 6. security (hostile and victim roles; its own database ml_security)
if want security && [ "$built" = 1 ]; then
	run_counted security "$MLX_PYTHON" test/security/run.py
fi

# ---- 7. fuzz
if want fuzz; then
	if [ -x scripts/fuzz.sh ] || [ -f scripts/fuzz.sh ]; then
		FUZZ_SECONDS="${FUZZ_SECONDS:-30}" run_counted fuzz bash scripts/fuzz.sh
	else
		echo "scripts/fuzz.sh is missing"
		record fuzz 0 1 "scripts/fuzz.sh missing"
	fi
fi

# ---- 8. PostgreSQL 18: regress, accuracy and JDBC in a copy of the tree
want18=()
for s in regress accuracy jdbc; do
	want "$s-18" && want18+=("$s")
done
if [ "$built" = 1 ] && { [ ${#want18[@]} -gt 0 ] || want pg_upgrade-18 || want dump-restore-18; } && [ -z "$SUFFIX" ]; then
	echo
	echo "=============== PostgreSQL 18 (${want18[*]}) ==============="
	log="$LOGDIR/pg18.log"
	pg18="$(bash scripts/pg18.sh 2>"$LOGDIR/pg18-build.log")"
	rc=$?
	case "$pg18" in
	"pg18: skipped"*)
		echo "$pg18"
		summary+=("  $pg18")
		;;
	*)
		if [ "$rc" -ne 0 ] || [ ! -x "$pg18" ]; then
			cat "$LOGDIR/pg18-build.log"
			record "pg18-build" 0 1 "scripts/pg18.sh failed, see $LOGDIR/pg18-build.log"
		else
			# a copy of the working tree (uncommitted changes included), so that
			# building for 18 leaves this checkout's objects alone
			tree="$MLX_ROOT/build/pg18/tree"
			rm -rf "$tree"
			mkdir -p "$tree"
			tar -C "$MLX_ROOT" --exclude=./.git --exclude=./build --exclude=./.cluster \
				--exclude='*.o' --exclude='*.so' --exclude='*.bc' -cf - . | tar -C "$tree" -xf -
			# (with no suite wanted it only builds and installs ml_ext for 18)
			PG_CONFIG="$pg18" ML_PORT=$((MLX_PORT + 2)) ML_SUITE_SUFFIX=-18 ML_SUITES="${want18[*]:-none}" \
				bash "$tree/scripts/test.sh" 2>&1 | tee "$log"
			# its summary lines are ours
			sed -n '/^=============== summary ===============$/,$p' "$log" | grep -E '^  [a-z0-9-]+ +[0-9]+ passed, +[0-9]+ failed' >"$log.summary" || true
			if [ -s "$log.summary" ]; then
				while IFS= read -r line; do
					summary+=("$line")
				done <"$log.summary"
				c="$(counts_of "$log")"
				read -r p f <<<"$c"
				total_passed=$((total_passed + p))
				total_failed=$((total_failed + f))
			elif [ ${#want18[@]} -gt 0 ] || [ "$(counts_of "$log")" != "0 0" ]; then
				record "pg18" 0 1 "the PostgreSQL 18 run printed no summary, see $log"
			fi
			if want dump-restore-18; then
				ML_NEW_PG_CONFIG="$pg18" ML_UPGRADE_METHOD=dump run_counted dump-restore-18 bash test/upgrade/pg_upgrade.sh
			fi
			if want pg_upgrade-18; then
				ML_NEW_PG_CONFIG="$pg18" run_counted pg_upgrade-18 bash test/upgrade/pg_upgrade.sh
			fi
		fi
		;;
	esac
fi

# ---- summary; the cluster is stopped before the final line so nothing follows it
cleanup
echo
echo "=============== summary ==============="
printf '%s\n' "${summary[@]}"
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
