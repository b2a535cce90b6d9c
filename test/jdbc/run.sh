#!/usr/bin/env bash
# JDBC suite: ml_ext through the PostgreSQL JDBC driver (Debian's
# libpostgresql-jdbc-java), as a BI tool would use it.  Compiles test/jdbc/*.java
# into build/jdbc, makes a fresh database ml_jdbc on the throwaway cluster (started
# here, and stopped again, when it is not running) and runs MlExtJdbcTest over the
# cluster's unix socket (UnixSocketFactory: the cluster needs no TCP listener).
#
# Prints PASS/FAIL lines and ends with "N passed, M failed"; exit status 1 on failure.
set -uo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
cd "$MLX_ROOT" || exit 1

JAR=/usr/share/java/postgresql.jar
OUT="$MLX_ROOT/build/jdbc"
DB="${ML_JDBC_DB:-ml_jdbc}"

bail() { echo "FAIL jdbc: $*"; echo "0 passed, 1 failed"; exit 1; }

command -v javac >/dev/null 2>&1 || bail "javac not found (install a JDK, e.g. openjdk-17-jdk-headless)"
[ -r "$JAR" ] || bail "$JAR not found (apt-get install libpostgresql-jdbc-java)"

rm -rf "$OUT"
mkdir -p "$OUT"
javac -encoding UTF-8 -Xlint:all -Xlint:-serial -d "$OUT" -cp "$JAR" test/jdbc/*.java >"$OUT/javac.log" 2>&1 ||
	{ cat "$OUT/javac.log"; bail "javac failed"; }

started=0
# shellcheck disable=SC2317 # called by the EXIT trap
stop_started() {
	if [ "$started" = 1 ]; then
		started=0
		(mlx_cluster_stop) >/dev/null 2>&1 || true
	fi
}
trap stop_started EXIT
mlx_cluster_paths
if ! mlx_cluster_running; then
	started=1
	(mlx_cluster_start) >"$OUT/cluster.log" 2>&1 || { cat "$OUT/cluster.log"; bail "could not start the cluster"; }
fi
mlx_cluster_export
mlx_fresh_db "$DB" || bail "could not create database $DB"

PGDATABASE="$DB" ML_JDBC_DB="$DB" ML_DATA_CSV="$MLX_ROOT/data/diabetes.csv" \
	java -cp "$OUT:$JAR" MlExtJdbcTest
rc=$?
mlx_psql -q -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
exit "$rc"
