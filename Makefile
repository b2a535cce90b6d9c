# ml_ext: in-database machine learning for PostgreSQL (PGXS build).
#
#   make demo    install what is missing, build, start a throwaway cluster,
#                train and score on real data
#   make test    the same set-up, then every test suite; ends "N passed, M failed"
#   make fuzz    run the model-decoder fuzz target for a bounded time

EXTENSION = ml_ext
MODULE_big = ml_ext
# 1.0 is released and never edited.  Later versions are built from the parts
# in upgrade/: the update script ml_ext--1.0--1.1.sql is its parts in file
# order, and the install script ml_ext--1.1.sql is 1.0 plus that update, in a
# schema the extension creates (so an existing "ml" is refused, not adopted).
DATA = ml_ext--1.0.sql ml_ext--1.0.control
DATA_built = ml_ext--1.0--1.1.sql ml_ext--1.1.sql
UPDATE_1_1_PARTS = $(sort $(wildcard $(srcdir)/upgrade/1.0--1.1/*.sql))
PGFILEDESC = "ml_ext - machine learning inside PostgreSQL"

CORE_SRCS = $(wildcard src/core/*.c)
MODEL_SRCS = $(wildcard src/model/*.c)
PG_SRCS = $(wildcard src/pg/*.c)
OBJS = $(CORE_SRCS:.c=.o) $(MODEL_SRCS:.c=.o) $(PG_SRCS:.c=.o)

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --outputdir=build/regress --load-extension=ml_ext

PG_CONFIG ?= $(shell test -x /usr/lib/postgresql/15/bin/pg_config && echo /usr/lib/postgresql/15/bin/pg_config || echo pg_config)
PG_CPPFLAGS = -I$(srcdir)/src
PG_CFLAGS = -std=gnu99 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
ifeq ($(CI),true)
PG_CFLAGS += -Werror
endif
BLAS_LIBS = -llapacke -llapack -lblas -lm
SHLIB_LINK = $(BLAS_LIBS)

EXTRA_CLEAN = build

# PGXS tracks no header dependencies: rebuild every object when any of our
# headers changes (struct layouts are shared across the three layers)
ML_HEADERS = $(wildcard src/*/*.h)

# PGXS is only needed for the build targets; demo/test bootstrap it first.
ifneq ($(filter demo test fuzz deps unit bench,$(MAKECMDGOALS)),)
NO_PGXS = 1
endif

ifndef NO_PGXS
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifeq ($(PGXS),)
$(error pg_config not found: run "make demo" or "make test" first, they install postgresql-server-dev-15)
endif
include $(PGXS)
endif

$(OBJS): $(ML_HEADERS)

ml_ext--1.0--1.1.sql: $(UPDATE_1_1_PARTS)
	cat $(UPDATE_1_1_PARTS) > $@

ml_ext--1.1.sql: $(srcdir)/upgrade/install-1.1.sql $(srcdir)/ml_ext--1.0.sql ml_ext--1.0--1.1.sql
	cat $^ > $@

.PHONY: demo test fuzz deps unit bench

deps:
	scripts/deps.sh

demo:
	scripts/demo.sh

test:
	scripts/test.sh

unit:
	scripts/unit.sh

fuzz:
	scripts/fuzz.sh

bench:
	scripts/bench.sh
