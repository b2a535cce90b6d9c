/*
 * ml_ext.c
 *	  Module entry: PG_MODULE_MAGIC and load-time setup.
 */
#include "postgres.h"

#include <dlfcn.h>

#include "fmgr.h"
#include "utils/guc.h"

#include "pg/ml_train.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* ml.progress_interval (see ml_record_pass) */
double		ml_progress_interval = 10;

/*
 * Load time: define the settings, and make BLAS single-threaded.  BLAS
 * must run single-threaded inside a backend: parallelism comes from
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
	MarkGUCPrefixReserved("ml");

	set_threads = (void (*) (int)) dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
	if (set_threads != NULL)
		set_threads(1);
}
