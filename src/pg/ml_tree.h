/*
 * ml_tree.h
 *	  The PostgreSQL side of the tree ensembles shared by the binning pass
 *	  (tree.c), the driver (train_tree.c) and scoring.
 */
#ifndef ML_TREE_H
#define ML_TREE_H

#include "postgres.h"

#include "core/tree.h"
#include "model/model.h"
#include "pg/ml_pg.h"

#define ML_TREE_BINS_MAGIC 0x4D4C5442	/* "MLTB" */
#define ML_TREE_STATE_MAGIC 0x4D4C5447	/* "MLTG": binned rows */
#define ML_TREE_SAMPLE_MAGIC 0x4D4C5453	/* "MLTS": sampled rows, nfeat
										 * doubles each */
/* a record: the bins, then the target (double) and the held-out flag */
#define ML_TREE_ROW_EXTRA (sizeof(double) + 1)

/* bin edges of every feature (the bins argument of ml._tree_gather) */
typedef struct MlTreeBins
{
	int32		nfeat;
	int32	   *ncuts;
	double	  **cuts;
} MlTreeBins;

/* the flat state of ml._tree_gather and ml._tree_sample (see tree.c) */
typedef struct TreeGatherState
{
	int32		vl_len_;
	uint32		magic;			/* ML_TREE_STATE_MAGIC or ML_TREE_SAMPLE_MAGIC */
	int32		nfeat;
	int32		rowsize;		/* nfeat + ML_TREE_ROW_EXTRA, or nfeat * 8 */
	int32		reserved;		/* 0 */
	int32		padding;		/* 0 */
	int64		nrows;
	int64		capacity;
} TreeGatherState;

#define ML_TREE_STATE_ROWS(s) ((uint8 *) (s) + sizeof(TreeGatherState))

extern bytea *ml_tree_bins_encode(const MlTreeBins *b);
extern TreeGatherState *ml_tree_state_check(Datum d);
extern void ml_tree_check_features(const MlFloat8Array *x);
extern void ml_tree_predict(const mlx_model *m, const void *x, double *out);
extern double ml_tree_score(const mlx_model *m, const void *x);

static inline bool
ml_is_tree_model(const mlx_model *m)
{
	return m->algorithm == MLX_ALG_DECISION_TREE ||
		m->algorithm == MLX_ALG_RANDOM_FOREST ||
		m->algorithm == MLX_ALG_GRADIENT_BOOSTING;
}

#endif							/* ML_TREE_H */
