#!/usr/bin/env bash
# pg_upgrade suite: models survive a major upgrade of the server.
#
#   ML_NEW_PG_CONFIG=/path/to/18/bin/pg_config test/upgrade/pg_upgrade.sh
#
# The old server is the one PG_CONFIG names (Debian 12's 15 by default), the
# new one ML_NEW_PG_CONFIG's; ml_ext must be installed for both (make test
# does).  A cluster of the old major (build/pg_upgrade/old, port ML_PORT+3)
# gets ml_ext and a model of every algorithm and objective (the corpus's
# recipes, test/corpus/generate.py, trained by ml.train), every model's
# predictions are stored in a table next to them, then pg_upgrade moves the
# cluster to the new major (build/pg_upgrade/new, port ML_PORT+4) and the
# new server must score every model to exactly the stored text and keep
# ml.models and ml.model_names row for row.
#
# ML_UPGRADE_METHOD=dump moves the database by dump and restore instead: the
# old server's pg_dump (Debian's 15.20 leaves out its "pg_attver" column
# options, which 18.6's pg_dump copies and 18.6 then rejects) and the new
# server's pg_restore.
#
# Prints PASS/FAIL lines and ends with "N passed, M failed".
set -uo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
cd "$MLX_ROOT" || exit 1

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "PASS $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
OLD_BIN="$MLX_PG_BINDIR"
NEW_BIN="$("${ML_NEW_PG_CONFIG:?set ML_NEW_PG_CONFIG}" --bindir)"
BASE="$MLX_ROOT/build/pg_upgrade"
OLD_PORT=$((MLX_PORT + 3))
NEW_PORT=$((MLX_PORT + 4))
DB=ml_upgrade
METHOD="${ML_UPGRADE_METHOD:-pg_upgrade}"

stop_all() {
	for d in old new; do
		[ -f "$BASE/$d/postmaster.pid" ] || continue
		local bin="$OLD_BIN"
		[ "$d" = new ] && bin="$NEW_BIN"
		mlx_as_pguser "$bin/pg_ctl" -D "$BASE/$d" stop -m fast -w >/dev/null 2>&1 || true
	done
}
finish() {
	stop_all
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}
trap stop_all EXIT
bail() { fail "$*"; finish; }

stop_all
rm -rf "$BASE"
mkdir -p "$BASE/run" "$BASE/log"
chmod 700 "$BASE" "$BASE/run"
mlx_is_root && chown -R postgres:postgres "$BASE"

psql_old() { "$OLD_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$BASE/run" -p "$OLD_PORT" -U postgres -d "$DB" "$@"; }
psql_new() { "$NEW_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$BASE/run" -p "$NEW_PORT" -U postgres -d "$DB" "$@"; }
start() { # bin data port
	mlx_as_pguser "$1/pg_ctl" -D "$2" -w -t 60 -l "$BASE/log/$(basename "$2").log" \
		-o "-p $3 -k $BASE/run -c listen_addresses=''" start >/dev/null
}

# 1. old cluster: models of every algorithm, their predictions stored beside them
# (no data checksums: PostgreSQL 18's initdb enables them by default, and
# pg_upgrade needs both clusters alike)
mlx_as_pguser "$OLD_BIN/initdb" -D "$BASE/old" -U postgres --auth=trust --encoding=UTF8 --no-locale \
	--no-sync >"$BASE/log/initdb-old.log" 2>&1 || bail "initdb (old) failed: $(tail -3 "$BASE/log/initdb-old.log")"
start "$OLD_BIN" "$BASE/old" "$OLD_PORT" || bail "could not start the old cluster"
"$OLD_BIN/createdb" -h "$BASE/run" -p "$OLD_PORT" -U postgres "$DB" || bail "createdb failed"
psql_old -c "CREATE EXTENSION ml_ext" -f test/corpus/input.sql >/dev/null || bail "old: CREATE EXTENSION"
# the corpus recipes, as SQL
"$MLX_PYTHON" - >"$BASE/train.sql" <<'PY' || bail "could not read the corpus recipes"
import json, sys
sys.path.insert(0, "test/corpus")
from generate import MODELS
def lit(v):
    return "NULL" if v is None else "'" + str(v).replace("'", "''") + "'"
out = ["CREATE TABLE public.scores (name text, fn text, id int, score text);"]
for name, algorithm, target, features, options, calls in MODELS:
    out.append("SELECT ml.train(%s, 'public.corpus_input', %s, %s, ARRAY[%s]::text[], %s::jsonb);" % (
        lit(name), lit(target), lit(algorithm), ", ".join(lit(f) for f in features), lit(json.dumps(options))))
    for fn in calls:
        out.append("INSERT INTO public.scores SELECT %s, %s, t.id, ml.%s(%s, t)::text FROM public.corpus_input t;"
                   % (lit(name), lit(fn), fn, lit(name)))
print("\n".join(out))
PY
PGOPTIONS="-c client_min_messages=error" psql_old -f "$BASE/train.sql" >/dev/null || bail "old: training the models failed"
registry="SELECT id, name, version, owner, owner_id, algorithm, features, options, metrics, md5(model), deployed FROM ml.models ORDER BY id"
psql_old -At -c "$registry" >"$BASE/registry-old.txt" || bail "old: reading ml.models"
psql_old -At -c "SELECT * FROM ml.model_names ORDER BY name" >"$BASE/names-old.txt" || bail "old: reading ml.model_names"
n_models=$(wc -l <"$BASE/registry-old.txt")
n_scores=$(psql_old -At -c "SELECT count(*) FROM public.scores")
[ "$n_models" -ge 18 ] && pass "old $("$OLD_BIN/pg_config" --version): $n_models models, $n_scores stored scores" ||
	fail "old: only $n_models models"

# 2. to the new major
mlx_as_pguser "$NEW_BIN/initdb" -D "$BASE/new" -U postgres --auth=trust --encoding=UTF8 --no-locale \
	--no-sync $("$NEW_BIN/initdb" --help | grep -q -- --no-data-checksums && echo --no-data-checksums) \
	>"$BASE/log/initdb-new.log" 2>&1 || bail "initdb (new) failed: $(tail -3 "$BASE/log/initdb-new.log")"
if [ "$METHOD" = dump ]; then
	start "$NEW_BIN" "$BASE/new" "$NEW_PORT" || bail "could not start the new cluster"
	"$OLD_BIN/pg_dump" -h "$BASE/run" -p "$OLD_PORT" -U postgres -Fc -f "$BASE/old.dump" "$DB" ||
		bail "pg_dump of the old database failed"
	"$NEW_BIN/createdb" -h "$BASE/run" -p "$NEW_PORT" -U postgres "$DB" || bail "createdb (new) failed"
	if "$NEW_BIN/pg_restore" -h "$BASE/run" -p "$NEW_PORT" -U postgres --exit-on-error -d "$DB" "$BASE/old.dump" \
		>"$BASE/log/pg_restore.log" 2>&1; then
		pass "pg_dump $("$OLD_BIN/pg_config" --version) | pg_restore $("$NEW_BIN/pg_config" --version)"
	else
		tail -n 20 "$BASE/log/pg_restore.log"
		bail "pg_restore failed (log: $BASE/log/pg_restore.log)"
	fi
	mlx_as_pguser "$OLD_BIN/pg_ctl" -D "$BASE/old" stop -m fast -w >/dev/null || bail "could not stop the old cluster"
else
	mlx_as_pguser "$OLD_BIN/pg_ctl" -D "$BASE/old" stop -m fast -w >/dev/null || bail "could not stop the old cluster"
	if (cd "$BASE" && mlx_as_pguser env -C "$BASE" "$NEW_BIN/pg_upgrade" -b "$OLD_BIN" -B "$NEW_BIN" \
		-d "$BASE/old" -D "$BASE/new" -p "$OLD_PORT" -P "$NEW_PORT" -s "$BASE/run" -U postgres) \
		>"$BASE/log/pg_upgrade.log" 2>&1; then
		pass "pg_upgrade $("$OLD_BIN/pg_config" --version) -> $("$NEW_BIN/pg_config" --version)"
	else
		tail -n 30 "$BASE/log/pg_upgrade.log"
		bail "pg_upgrade failed (log: $BASE/log/pg_upgrade.log)"
	fi
	start "$NEW_BIN" "$BASE/new" "$NEW_PORT" || bail "could not start the upgraded cluster"
fi

# 3. the new server: same registry, same scores
psql_new -At -c "$registry" >"$BASE/registry-new.txt" &&
	psql_new -At -c "SELECT * FROM ml.model_names ORDER BY name" >"$BASE/names-new.txt" || bail "new: reading the registry"
if cmp -s "$BASE/registry-old.txt" "$BASE/registry-new.txt" && cmp -s "$BASE/names-old.txt" "$BASE/names-new.txt"; then
	pass "ml.models and ml.model_names intact ($n_models models)"
else
	diff "$BASE/registry-old.txt" "$BASE/registry-new.txt" | head -5
	fail "ml.models or ml.model_names changed across $METHOD"
fi
bad=$(psql_new -At -c "SELECT count(*) FROM public.scores s JOIN public.corpus_input t ON t.id = s.id
  WHERE s.score IS DISTINCT FROM CASE s.fn
    WHEN 'predict' THEN ml.predict(s.name, t)::text
    WHEN 'predict_proba' THEN ml.predict_proba(s.name, t)::text
    WHEN 'predict_label' THEN ml.predict_label(s.name, t)::text
    WHEN 'transform' THEN ml.transform(s.name, t)::text END") || bail "new: scoring failed"
[ "$bad" = 0 ] && pass "every model scores identically on $("$NEW_BIN/pg_config" --version) ($n_scores scores)" ||
	fail "$bad of $n_scores scores differ after $METHOD"
# the upgraded registry keeps working
v=$(psql_new -At -c "SELECT version FROM ml.train('linear', 'public.corpus_input', 'y', features => ARRAY['x1', 'x2'])") &&
	[ "$v" = 2 ] && pass "ml.train after $METHOD stores version 2" || fail "ml.train after $METHOD: $v"
finish
