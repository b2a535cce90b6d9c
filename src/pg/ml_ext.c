/*
 * ml_ext.c
 *	  Module entry: PG_MODULE_MAGIC and load-time setup.
 */
#include "postgres.h"

#include <dlfcn.h>
#include <limits.h>

#include "fmgr.h"
#include "utils/guc.h"

#include "core/tree.h"
#include "pg/ml_train.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* ml.progress_interval (see ml_record_pass) */
double		ml_progress_interval = 10;

/* ml.max_training_memory (kB) and ml.training_threads (train_tree.c) */
int			ml_max_training_memory = 1024 * 1024;
int			ml_training_threads = 1;

/*
 * Load time: define the settings, and make BLAS single-threaded.
 *
 * The two settings that bound a backend's resources (memory and threads of
 * tree training) are superuser-set: an administrator puts them in
 * postgresql.conf or sets them per role or database (ALTER ROLE ... SET),
 * and a role so limited cannot raise them.  ml.progress_interval only
 * changes what the caller is told, so anyone may set it.
 *
 * BLAS must run single-threaded inside a backend: parallelism comes from
 * parallel query workers, and a threaded BLAS in every backend would
 * oversubscribe the machine.  OpenBLAS has a setter; look it up at
 * run time so other BLAS builds (reference, ATLAS) still load.
 */
void
_PG_init(void)
{
	void		(*set_threads) (int);

	DefineCustomRealVariable("ml.progress_interval",
							 "Seconds between progress NOTICEs of a running ml.train.",
							 "Every pass of ml.train is reported at DEBUG1; a pass that ends at least this many seconds after the start of training or the last NOTICE is reported as a NOTICE. -1 turns the NOTICEs off; 0 reports every pass.",
							 &ml_progress_interval,
							 10, -1, 86400,
							 PGC_USERSET, GUC_UNIT_S,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("ml.max_training_memory",
							"Memory a training run may hold in one backend (tree models).",
							"The binned rows of decision_tree, random_forest and gradient_boosting are trained in memory; a run that would need more stops with an error before it reads the data. The binned rows themselves can take at most 1 GB.",
							&ml_max_training_memory,
							1024 * 1024, 1024, INT_MAX,
							PGC_SUSET, GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("ml.training_threads",
							"Threads of the in-memory phase of tree training.",
							"After the parallel binning pass, the histograms, row partitions, gradients and leaf updates of decision_tree, random_forest and gradient_boosting training are split between this many threads of the backend. The model does not depend on it.",
							&ml_training_threads,
							1, 1, MLX_TREE_MAX_THREADS,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	MarkGUCPrefixReserved("ml");

	set_threads = (void (*) (int)) dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
	if (set_threads != NULL)
		set_threads(1);
}
