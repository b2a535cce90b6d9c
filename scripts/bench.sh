#!/usr/bin/env bash
# make bench: build and install ml_ext, start the throwaway cluster and run, in database
# ml_bench, bench/linreg.py (1,000,000 rows; training and scoring vs a plain scan; rewrites
# bench/RESULTS.md) and then bench/classic.py (logistic regression and k-means passes vs a
# scan, and end to end vs COPY + scikit-learn; adds its section to bench/RESULTS.md) and
# bench/trees.py (gradient boosting: training vs COPY + XGBoost hist, scoring vs a scan;
# adds its section too).
# Extra arguments (--rows N, --rounds R, --no-write) go to all three scripts;
# ML_BENCH_CLASSIC_ARGS holds more for bench/classic.py only (e.g. "--e2e-rounds 1"),
# ML_BENCH_TREES_ARGS for bench/trees.py only (e.g. "--train-rounds 1").
# The cluster is stopped afterwards unless it was already running or ML_KEEP_CLUSTER=1.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$MLX_ROOT"

mlx_deps core bench
mlx_build
mlx_install
was_running=0
if (mlx_cluster_status >/dev/null 2>&1); then was_running=1; fi
mlx_cluster_start
mlx_cluster_export
if [ "$was_running" = 0 ] && [ "${ML_KEEP_CLUSTER:-0}" != 1 ]; then
	trap '(mlx_cluster_stop) || true' EXIT
fi
# the table is kept between runs (it takes a while to build): no fresh database here
mlx_psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'ml_bench'" | grep -q 1 ||
	mlx_psql -q -d postgres -c "CREATE DATABASE ml_bench"
# a stale extension (older SQL script in this database) would skew the run: recreate it
mlx_psql -q -d ml_bench -c "SET client_min_messages = warning" -c "DROP EXTENSION IF EXISTS ml_ext CASCADE" -c "CREATE EXTENSION ml_ext"
PGDATABASE=ml_bench "$MLX_PYTHON" bench/linreg.py "$@"
# after linreg.py, which rewrites RESULTS.md: classic.py replaces only its own section
# shellcheck disable=SC2086 # ML_BENCH_CLASSIC_ARGS is a list of words
PGDATABASE=ml_bench "$MLX_PYTHON" bench/classic.py "$@" ${ML_BENCH_CLASSIC_ARGS:-}
# shellcheck disable=SC2086 # ML_BENCH_TREES_ARGS is a list of words
PGDATABASE=ml_bench "$MLX_PYTHON" bench/trees.py "$@" ${ML_BENCH_TREES_ARGS:-}
