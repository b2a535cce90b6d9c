#!/usr/bin/env bash
# pg_cron suite: scheduled retraining and scoring with ml_ext.
#
# pg_cron must be preloaded (shared_preload_libraries), so this suite starts its
# own throwaway cluster -- BASE/cron/{data,run,log} next to the main cluster's
# (scripts/lib.sh, MLX_CLUSTER_SUB=cron), unix socket only, port ML_PORT+1 -- and
# stops and removes it at the end (its log is kept in build/cron/postgres.log).
#
# In database ml_cron: train a model once (version 1), schedule a retraining job
# and a scoring job, wait (bounded) until they ran, then check the new version, the
# scores against ml.predict computed directly, and cron.job_run_details.  Jobs run
# as a non-superuser role (cron.schedule_in_database) show they run with that
# role's privileges: its own model trains, a table it cannot read and a model
# name it does not own are refused.
#
# pg_cron >= 1.5 takes a '2 seconds' schedule; older ones (Debian 12 has 1.4)
# run '* * * * *', so the wait is up to a minute.  ML_CRON_WAIT (default 90)
# bounds the wait in seconds.
#
# Prints PASS/FAIL lines and ends with "N passed, M failed"; exit status 1 on failure.
set -uo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
cd "$MLX_ROOT" || exit 1

MLX_CLUSTER_SUB=cron
MLX_PORT=$((${ML_PORT:-54329} + 1))
DB=ml_cron
WAIT="${ML_CRON_WAIT:-90}"
OUT="$MLX_ROOT/build/cron"
MODEL=cron_model
OPTS='{"exclude": ["id"]}'

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "PASS $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
finish() {
	cleanup
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}
bail() { fail "$*"; finish; }

# psql on the cron cluster, database ml_cron: -At, stops on the first error
q() { mlx_psql -At -q -d "$DB" "$@"; }
# one value
q1() { q -c "$1" 2>&1; }

started=0
cleanup() {
	[ "$started" = 1 ] || return 0
	started=0
	# no job may outlive the test, even if the cluster were kept
	q -c "SELECT count(cron.unschedule(jobid)) FROM cron.job" >/dev/null 2>&1 || true
	(mlx_cluster_stop) >/dev/null 2>&1 || true
	mkdir -p "$OUT"
	cp "$MLX_LOG" "$OUT/postgres.log" 2>/dev/null || true
	mlx_cluster_running || rm -rf "$MLX_BASE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- set-up
pkglib="$("$MLX_PG_CONFIG" --pkglibdir)"
[ -f "$pkglib/pg_cron.so" ] || bail "pg_cron is not installed ($pkglib/pg_cron.so; apt-get install postgresql-${MLX_PG_MAJOR}-cron)"
[ -f "$pkglib/ml_ext.so" ] || bail "ml_ext is not installed ($pkglib/ml_ext.so; make install)"

mlx_cluster_paths
started=1
# a fresh cluster every run (a leftover one from an interrupted run is discarded)
if mlx_cluster_running; then (mlx_cluster_stop) >/dev/null 2>&1; fi
rm -rf "$MLX_BASE"
MLX_CLUSTER_CONF_EXTRA="shared_preload_libraries = 'pg_cron'
cron.database_name = '$DB'
cron.host = '$MLX_RUN'
cron.log_run = on
cron.log_statement = off"
mkdir -p "$OUT"
if ! (mlx_cluster_start) >"$OUT/cluster.log" 2>&1; then
	cat "$OUT/cluster.log"
	bail "could not start the pg_cron cluster (port $MLX_PORT)"
fi
mlx_cluster_export
export PGDATABASE="$DB"
pass "cluster with pg_cron preloaded started (port $PGPORT, socket $PGHOST)"

mlx_fresh_db "$DB" || bail "could not create database $DB"
if ! q -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION ml_ext"; then
	bail "CREATE EXTENSION pg_cron, ml_ext in $DB"
fi
cron_version="$(q1 "SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'")"
pass "CREATE EXTENSION pg_cron ($cron_version) and ml_ext in $DB"

# the launcher connects to cron.database_name; it retries until the database exists
launcher=0
for _ in $(seq 1 60); do
	if [ "$(q1 "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_cron launcher'")" = 1 ]; then
		launcher=1
		break
	fi
	sleep 0.5
done
if [ "$launcher" = 1 ]; then pass "pg_cron launcher is running"; else bail "pg_cron launcher is not running"; fi

# data, the first version, roles and tables for the jobs
if ! q -v ON_ERROR_STOP=1 >"$OUT/setup.log" 2>&1 <<SQL; then
CREATE TABLE diabetes (id serial PRIMARY KEY, age float8, sex float8, bmi float8, bp float8,
                       s1 float8, s2 float8, s3 float8, s4 float8, s5 float8, s6 float8,
                       progression float8);
\copy diabetes (age, sex, bmi, bp, s1, s2, s3, s4, s5, s6, progression) FROM 'data/diabetes.csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE scores (id integer, score float8, scored_at timestamptz DEFAULT clock_timestamp());
CREATE TABLE secret (x float8, y float8);
INSERT INTO secret SELECT i, 2 * i FROM generate_series(1, 10) i;
CREATE ROLE ml_analyst LOGIN;
GRANT USAGE ON SCHEMA ml TO ml_analyst;
GRANT SELECT ON diabetes TO ml_analyst;
SQL
	cat "$OUT/setup.log"
	bail "set-up of tables and roles"
fi
v1="$(q1 "SELECT version FROM ml.train('$MODEL', 'diabetes', 'progression', options => '$OPTS')")"
if [ "$v1" = 1 ]; then pass "trained $MODEL once: version 1"; else bail "first training gave: $v1"; fi

# ---- schedule
if [ "$(printf '%s\n' 1.5 "$cron_version" | sort -V | head -n 1)" = 1.5 ]; then
	sched='2 seconds'
else
	sched='* * * * *'
fi
sched_out="$(q -v ON_ERROR_STOP=1 2>&1 <<SQL
SELECT cron.schedule('ml_retrain', '$sched',
  \$\$SELECT ml.train('$MODEL', 'diabetes', 'progression', options => '$OPTS')\$\$);
SELECT cron.schedule('ml_score', '$sched',
  \$\$INSERT INTO scores (id, score) SELECT id, ml.predict('$MODEL', t) FROM diabetes t\$\$);
SELECT cron.schedule_in_database('analyst_train', '$sched',
  \$\$SELECT ml.train('analyst_model', 'diabetes', 'progression', options => '$OPTS')\$\$,
  '$DB', 'ml_analyst');
SELECT cron.schedule_in_database('analyst_secret', '$sched',
  \$\$SELECT ml.train('analyst_secret', 'secret', 'y')\$\$, '$DB', 'ml_analyst');
SELECT cron.schedule_in_database('analyst_overwrite', '$sched',
  \$\$SELECT ml.train('$MODEL', 'diabetes', 'progression', options => '$OPTS')\$\$, '$DB', 'ml_analyst');
SQL
)"
njobs="$(q1 "SELECT count(*) FROM cron.job")"
if [ "$njobs" = 5 ]; then
	pass "scheduled 5 jobs ('$sched'): ml_retrain, ml_score as postgres; analyst_train, analyst_secret, analyst_overwrite as ml_analyst"
else
	echo "$sched_out"
	bail "scheduling: cron.job holds $njobs jobs, expected 5"
fi

# ---- wait until every job has finished at least once
t0=$SECONDS
done_jobs=0
while [ $((SECONDS - t0)) -lt "$WAIT" ]; do
	done_jobs="$(q1 "SELECT count(DISTINCT jobid) FROM cron.job_run_details WHERE status IN ('succeeded', 'failed')")"
	[ "$done_jobs" = 5 ] && break
	sleep 1
done
if [ "$done_jobs" = 5 ]; then
	pass "all 5 jobs ran within $((SECONDS - t0)) s"
else
	fail "only $done_jobs of 5 jobs finished within $WAIT s"
	q -c "SELECT j.jobname, d.status, d.return_message FROM cron.job j LEFT JOIN cron.job_run_details d USING (jobid)" | sed 's/^/    /'
fi
# stop further runs before checking, so the tables hold still
q -c "UPDATE cron.job SET active = false" >/dev/null 2>&1 || true

# status and message of the first finished run of a job
run_of() {
	q1 "SELECT d.status || '|' || d.username || '|' || coalesce(split_part(d.return_message, E'\\n', 1), '')
	    FROM cron.job j JOIN cron.job_run_details d USING (jobid)
	    WHERE j.jobname = '$1' AND d.status IN ('succeeded', 'failed')
	    ORDER BY d.runid LIMIT 1"
}

# ---- checks
r="$(run_of ml_retrain)"
case "$r" in
succeeded\|postgres\|*) pass "ml_retrain: job_run_details status succeeded ($r)" ;;
*) fail "ml_retrain: job_run_details says '$r'" ;;
esac
r="$(run_of ml_score)"
case "$r" in
"succeeded|postgres|INSERT 0 442") pass "ml_score: job_run_details status succeeded ($r)" ;;
*) fail "ml_score: job_run_details says '$r'" ;;
esac

r="$(q1 "SELECT max(version) || '|' || (SELECT version FROM ml.models WHERE name = '$MODEL' AND deployed)
                || '|' || count(*) FILTER (WHERE created_by <> 'postgres')
         FROM ml.models WHERE name = '$MODEL'")"
IFS='|' read -r vmax vdep vother <<<"$r"
if [ -n "$vmax" ] && [ "$vmax" -ge 2 ] 2>/dev/null && [ "$vdep" = "$vmax" ]; then
	pass "retraining job added version $vmax of $MODEL, deployed"
else
	fail "no new deployed version of $MODEL (max|deployed|others: $r)"
fi

r="$(q1 "SELECT count(*) || '|' || count(DISTINCT s.id) || '|' || coalesce(max(abs(s.score - ml.predict('$MODEL', t))), 'NaN')
         || '|' || coalesce(max(abs(s.score - ml.predict(m.model, t))), 'NaN')
         FROM scores s JOIN diabetes t USING (id),
              (SELECT model FROM ml.models WHERE name = '$MODEL' AND version = 1) m")"
IFS='|' read -r nrows nids dnow dv1 <<<"$r"
if [ "$nids" = 442 ] && [ $((nrows % 442)) = 0 ] &&
	awk -v a="$dnow" -v b="$dv1" 'BEGIN { exit !(a + 0 <= 1e-9 && b + 0 <= 1e-9 && a != "NaN") }'; then
	pass "scores: $nrows rows for 442 ids, equal to ml.predict computed directly (max diff $dnow; vs version 1: $dv1)"
else
	fail "scores: rows|ids|max diff|max diff v1 = $r"
fi

# the non-superuser's jobs ran with its privileges
r="$(run_of analyst_train)"
case "$r" in
succeeded\|ml_analyst\|*) pass "analyst_train ran as ml_analyst and succeeded" ;;
*) fail "analyst_train: job_run_details says '$r'" ;;
esac
r="$(q1 "SELECT string_agg(version || ',' || owner || ',' || created_by, ';') FROM ml.models WHERE name = 'analyst_model'")"
case "$r" in
1,ml_analyst,ml_analyst*) pass "analyst_model version 1 is owned and created by ml_analyst" ;;
*) fail "analyst_model registry rows: '$r'" ;;
esac
r="$(run_of analyst_secret)"
case "$r" in
failed\|ml_analyst\|*"permission denied"*) pass "analyst_secret (table not granted) failed: ${r##*|}" ;;
*) fail "analyst_secret should fail with permission denied: '$r'" ;;
esac
r="$(run_of analyst_overwrite)"
case "$r" in
failed\|ml_analyst\|*) pass "analyst_overwrite (model name owned by postgres) failed: ${r##*|}" ;;
*) fail "analyst_overwrite should fail: '$r'" ;;
esac
if [ "$vother" = 0 ]; then
	pass "no version of $MODEL was created by ml_analyst"
else
	fail "$vother versions of $MODEL created by another role"
fi
r="$(q1 "SELECT count(*) FROM ml.models WHERE name = 'analyst_secret'")"
if [ "$r" = 0 ]; then pass "the refused job wrote nothing to the registry"; else fail "analyst_secret rows in ml.models: $r"; fi

# ---- unschedule, and stop the cluster
r="$(q1 "SELECT count(cron.unschedule(jobid)) FROM cron.job")|$(q1 "SELECT count(*) FROM cron.job")"
if [ "$r" = "5|0" ]; then
	pass "unscheduled all jobs"
else
	fail "cron.unschedule: unscheduled|left = $r"
fi
cleanup
if mlx_cluster_running; then fail "the pg_cron cluster is still running"; else pass "stopped the pg_cron cluster"; fi
finish
