/*
 * ml_registry.h
 *	  Writing the model registry (registry_write.c).
 */
#ifndef ML_REGISTRY_H
#define ML_REGISTRY_H

#include "postgres.h"
#include "utils/array.h"
#include "utils/jsonb.h"

/* One trained model, as ml.train stores it. */
typedef struct MlRegistryEntry
{
	const char *name;
	const char *algorithm;
	const char *relation;		/* the relation argument as given */
	const char *target;			/* NULL: unsupervised */
	ArrayType  *features;		/* text[] of the feature columns */
	Jsonb	   *options;
	Jsonb	   *metrics;
	Jsonb	   *info;
	bytea	   *model;
	int64		n_rows;
	bool		deploy;
} MlRegistryEntry;

/* Claim the name for the calling role before training (or fail). */
extern void ml_registry_claim(const char *name);

/* Store the model as the next version of its claimed name. */
extern void ml_registry_store(const MlRegistryEntry *e, int64 *model_id, int32 *version);

#endif							/* ML_REGISTRY_H */
