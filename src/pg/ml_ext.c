/*
 * ml_ext.c
 *	  Module entry: PG_MODULE_MAGIC and load-time setup.
 */
#include "postgres.h"

#include <dlfcn.h>

#include "fmgr.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * BLAS must run single-threaded inside a backend: parallelism comes from
 * parallel query workers, and a threaded BLAS in every backend would
 * oversubscribe the machine.  OpenBLAS has a setter; look it up at
 * run time so other BLAS builds (reference, ATLAS) still load.
 */
void
_PG_init(void)
{
	void		(*set_threads) (int);

	set_threads = (void (*) (int)) dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
	if (set_threads != NULL)
		set_threads(1);
}
