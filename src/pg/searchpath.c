/*
 * searchpath.c
 *	  Run ml_ext's own SQL under a pinned search_path.
 *
 * A role that can create objects in a schema on the caller's search_path
 * could otherwise plant an overload (say public.hashtextextended(text, int4))
 * that a better argument match makes the parser pick inside our queries,
 * running it with the caller's privileges.  Every query ml_ext builds is
 * therefore schema-qualified, and runs with search_path set to
 * "pg_catalog, pg_temp" for its duration, the setting PostgreSQL's own
 * guidelines give for SECURITY DEFINER and extension functions.  The user's
 * relation argument is resolved under the caller's search_path first
 * (source.c), so unqualified names the user wrote still mean what they
 * meant to the user.
 */
#include "postgres.h"

#include "utils/guc.h"

#include "pg/ml_pg.h"

int
ml_pin_search_path(void)
{
	int			level = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	return level;
}

void
ml_unpin_search_path(int level)
{
	AtEOXact_GUC(true, level);
}
