/*
 * ml_train.h
 *	  Declarations shared by the training driver, the registry lookups and
 *	  by-name scoring.
 */
#ifndef ML_TRAIN_H
#define ML_TRAIN_H

#include "postgres.h"

#include "model/model.h"

/*
 * A FROM item for the user's relation argument: a re-quoted qualified name
 * of an existing relation (42P01 otherwise), or "(\n<query>\n)" for a
 * parenthesised single SELECT.
 */
extern char *ml_source_from_item(const char *relation);

/*
 * Fetch the deployed model of a name, visible to the current user, into
 * 'cxt' and decode it.  42704 when the name has no (deployed) model.
 */
extern void ml_registry_load(const char *name, MemoryContext cxt,
							 mlx_model *out);

#endif							/* ML_TRAIN_H */
