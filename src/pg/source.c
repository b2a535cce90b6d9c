/*
 * source.c
 *	  Turn the user's "relation" argument into a safe FROM item.
 *
 * ml.train and ml.evaluate accept a table or view name (qualified or not,
 * quoted or not) or a parenthesised SELECT.  Names are resolved to an
 * existing relation and re-quoted; a query is parsed on its own and must be
 * exactly one SELECT, so nothing can be smuggled past it (a trailing
 * comment, a second statement).  The query then runs with the caller's
 * privileges like any other.
 *
 * Our own SQL runs under a pinned search_path (searchpath.c), so the user's
 * query text cannot simply be pasted into it: "t" or "f(x)" found in the
 * caller's schemas would no longer be found, or worse, be found elsewhere.
 * The query is therefore parse-analyzed under the caller's search_path and
 * deparsed by ruleutils under the pinned one, which qualifies every
 * relation, function, operator and type the pinned path would not find as
 * the caller meant it.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "fmgr.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/ruleutils.h"

#include "pg/ml_pg.h"
#include "pg/ml_train.h"

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * The SELECT as text that means under the pinned search_path what the
 * user's text means under the current one.  Names are resolved here, under
 * the caller's search_path (parse analysis checks no privileges: the query
 * still runs with the caller's privileges when it runs), and ruleutils
 * prints every object the pinned path does not find the same way with its
 * schema.
 */
static char *
deparse_select(RawStmt *raw, const char *text)
{
	Query	   *query;
	char	   *result;
	int			level;

	query = parse_analyze_fixedparams(raw, text, NULL, 0, NULL);
	if (query->commandType != CMD_SELECT || query->utilityStmt != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("a query given as relation must be a single SELECT statement")));
	/* a subquery in FROM may not hold one: say so before the work starts */
	if (query->hasModifyingCTE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a query given as relation must not contain a data-modifying WITH clause")));
	level = ml_pin_search_path();
	result = pg_get_querydef(query, false);
	ml_unpin_search_path(level);
	return result;
}

char *
ml_source_from_item(const char *relation)
{
	const char *start = relation;
	const char *end = relation + strlen(relation);

	while (start < end && is_blank(*start))
		start++;
	while (end > start && is_blank(end[-1]))
		end--;
	if (start == end)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relation must not be empty"),
				 errhint("Give a table or view name, or a SELECT in parentheses.")));

	if (*start == '(')
	{
		char	   *inner;
		List	   *stmts;
		RawStmt    *raw;
		StringInfoData buf;

		if (end[-1] != ')')
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("a query given as relation must be enclosed in parentheses")));
		inner = pnstrdup(start + 1, end - start - 2);
		stmts = raw_parser(inner, RAW_PARSE_DEFAULT);
		if (list_length(stmts) != 1)
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("a query given as relation must be a single SELECT statement")));
		raw = linitial_node(RawStmt, stmts);
		if (!IsA(raw->stmt, SelectStmt) || ((SelectStmt *) raw->stmt)->intoClause != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("a query given as relation must be a single SELECT statement")));
		/* newlines keep the text apart from whatever surrounds it */
		initStringInfo(&buf);
		appendStringInfo(&buf, "(\n%s\n)", deparse_select(raw, inner));
		return buf.data;
	}
	else
	{
		List	   *names;
		RangeVar   *rv;
		Oid			relid;
		char	   *name = pnstrdup(start, end - start);

		/* raises 42602 invalid_name for malformed names */
		names = ml_stringToQualifiedNameList(name);
		rv = makeRangeVarFromNameList(names);
		relid = RangeVarGetRelid(rv, NoLock, true);
		if (!OidIsValid(relid))
		{
			if (rv->schemaname)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_TABLE),
						 errmsg("relation \"%s.%s\" does not exist",
								rv->schemaname, rv->relname)));
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation \"%s\" does not exist", rv->relname)));
		}
		return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
										  get_rel_name(relid));
	}
}

/*
 * ml._from_item(relation text) RETURNS text: the FROM item for a relation
 * argument, for the SQL-language parts of the API (ml.evaluate).
 */
PG_FUNCTION_INFO_V1(ml_from_item);
Datum
ml_from_item(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(ml_source_from_item(text_to_cstring(PG_GETARG_TEXT_PP(0)))));
}
