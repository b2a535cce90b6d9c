#!/usr/bin/env bash
# make demo: install what is missing, build and install ml_ext, start a throwaway
# cluster and run scripts/demo.sql on the diabetes data set (database ml_demo).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$MLX_ROOT"

DB=ml_demo

mlx_deps core
mlx_build
mlx_install
mlx_cluster_start
mlx_cluster_export
mlx_say "creating database $DB and running scripts/demo.sql"
mlx_fresh_db "$DB"
mlx_psql -q -d "$DB" -v csv="$MLX_ROOT/data/diabetes.csv" -f "$MLX_ROOT/scripts/demo.sql"

cat <<EOM

The demo cluster is still running (data in $MLX_DATA, log $MLX_LOG).
Connect to it (tables diabetes, diabetes_model, diabetes_ridge, diabetes_by_sex):

    $MLX_PG_BINDIR/psql -h $(printf %q "$PGHOST") -p $PGPORT -U postgres $DB

or set the environment for psql and other clients:  eval "\$(scripts/cluster.sh env)"
Stop it with (from $MLX_ROOT):

    scripts/cluster.sh stop
EOM
