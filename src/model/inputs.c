/*
 * inputs.c
 *	  Source-column descriptions of a model (mlx_inputs, MLX_SEC_INPUTS):
 *	  the consistency check the encoder, decoder and describer share,
 *	  category lookup for scoring, and the feature names the columns expand
 *	  to.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"

const char *
mlx_input_kind_name(uint8_t kind)
{
	switch (kind)
	{
		case MLX_INPUT_NUMERIC:
			return "numeric";
		case MLX_INPUT_BOOLEAN:
			return "boolean";
		case MLX_INPUT_CATEGORICAL:
			return "categorical";
		case MLX_INPUT_ARRAY:
			return "array";
	}
	return NULL;
}

/* qsort order of input pointers: by name, then by position */
static int
cmp_input_name(const void *a, const void *b)
{
	const mlx_input *x = *(const mlx_input *const *) a;
	const mlx_input *y = *(const mlx_input *const *) b;
	int			c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * Check one input's name, kind, feature count, imputation and categories.
 * nan_impute lets an imputation value be NaN (a NULL stays missing).
 */
static bool
check_input(const mlx_input *in, int32_t i, bool nan_impute, char *errbuf,
			size_t errlen)
{
	char		what[48];
	int32_t		j;

	if (in->name == NULL)
	{
		snprintf(errbuf, errlen, "input %d has no name", (int) i + 1);
		return false;
	}
	snprintf(what, sizeof(what), "input %d name", (int) i + 1);
	if (!mlx_check_text((const uint8_t *) in->name, strlen(in->name), 1,
						MLX_MODEL_MAX_NAME_LEN, what, errbuf, errlen))
		return false;
	if (mlx_input_kind_name(in->kind) == NULL)
	{
		snprintf(errbuf, errlen, "input %d has unknown kind %u",
				 (int) i + 1, (unsigned) in->kind);
		return false;
	}
	if (in->nfeat < 1 || in->nfeat > MLX_MODEL_MAX_FEATURES ||
		((in->kind == MLX_INPUT_NUMERIC || in->kind == MLX_INPUT_BOOLEAN) &&
		 in->nfeat != 1))
	{
		snprintf(errbuf, errlen, "input %d (%s) has %d features, expected %s",
				 (int) i + 1, mlx_input_kind_name(in->kind), (int) in->nfeat,
				 (in->kind == MLX_INPUT_NUMERIC || in->kind == MLX_INPUT_BOOLEAN) ?
				 "1" : "at least 1");
		return false;
	}

	if (in->kind != MLX_INPUT_CATEGORICAL)
	{
		if (in->impute == NULL)
		{
			snprintf(errbuf, errlen, "input %d has no imputation values",
					 (int) i + 1);
			return false;
		}
		for (j = 0; j < in->nfeat; j++)
		{
			if (isinf(in->impute[j]) || (isnan(in->impute[j]) && !nan_impute))
			{
				snprintf(errbuf, errlen,
						 "input %d imputation value %d is not finite",
						 (int) i + 1, (int) j + 1);
				return false;
			}
		}
		if (in->kind == MLX_INPUT_BOOLEAN && !isnan(in->impute[0]) &&
			!(in->impute[0] >= 0 && in->impute[0] <= 1))
		{
			snprintf(errbuf, errlen,
					 "input %d (boolean) imputation value is outside 0 to 1",
					 (int) i + 1);
			return false;
		}
		return true;
	}

	if (in->categories == NULL)
	{
		snprintf(errbuf, errlen, "input %d has no categories", (int) i + 1);
		return false;
	}
	for (j = 0; j < in->nfeat; j++)
	{
		const char *c = in->categories[j];

		if (c == NULL)
		{
			if (j > 0)
			{
				snprintf(errbuf, errlen,
						 "input %d has the NULL category at position %d, allowed only first",
						 (int) i + 1, (int) j + 1);
				return false;
			}
			continue;
		}
		snprintf(what, sizeof(what), "input %d category %d", (int) i + 1,
				 (int) j + 1);
		if (!mlx_check_text((const uint8_t *) c, strlen(c), 0,
							MLX_MODEL_MAX_CATEGORY_LEN, what, errbuf, errlen))
			return false;
		if (j > 0 && in->categories[j - 1] != NULL &&
			strcmp(in->categories[j - 1], c) >= 0)
		{
			snprintf(errbuf, errlen,
					 "input %d categories are not in strictly increasing byte order at category %d",
					 (int) i + 1, (int) j + 1);
			return false;
		}
	}
	return true;
}

/*
 * Names are only compared once each has been checked, so strcmp sees
 * NUL-terminated UTF-8; sorting pointers keeps this O(n log n) for models
 * with many columns.
 */
mlx_status
mlx_check_inputs(const mlx_inputs *in, int32_t k, bool nan_impute,
				 const mlx_ctx *ctx, int32_t *features, char *errbuf,
				 size_t errlen)
{
	int64_t		total = 0;
	int32_t		i;
	const mlx_input **sorted;
	mlx_status	st = MLX_OK;

	if (in == NULL || in->inputs == NULL || in->ninputs < 1 ||
		in->ninputs > MLX_MODEL_MAX_FEATURES)
	{
		snprintf(errbuf, errlen, "model has %d inputs, expected 1 to %d",
				 in == NULL ? 0 : (int) in->ninputs, MLX_MODEL_MAX_FEATURES);
		return MLX_ECORRUPT;
	}
	for (i = 0; i < in->ninputs; i++)
	{
		if (!check_input(&in->inputs[i], i, nan_impute, errbuf, errlen))
			return MLX_ECORRUPT;
		total += in->inputs[i].nfeat;
		if (total > MLX_MODEL_MAX_FEATURES)
		{
			snprintf(errbuf, errlen, "inputs expand to more than %d features",
					 MLX_MODEL_MAX_FEATURES);
			return MLX_ECORRUPT;
		}
	}
	if (k >= 0 && total != k)
	{
		snprintf(errbuf, errlen,
				 "inputs expand to %lld features but the model has %d",
				 (long long) total, (int) k);
		return MLX_ECORRUPT;
	}

	if (in->target == NULL)
	{
		if (in->target_kind != 0)
		{
			snprintf(errbuf, errlen,
					 "target kind is %u but the model has no target column",
					 (unsigned) in->target_kind);
			return MLX_ECORRUPT;
		}
	}
	else
	{
		if (in->target_kind != MLX_INPUT_NUMERIC &&
			in->target_kind != MLX_INPUT_BOOLEAN &&
			in->target_kind != MLX_INPUT_CATEGORICAL)
		{
			snprintf(errbuf, errlen,
					 "target kind %u is not valid, expected 1 (numeric), 2 (boolean) or 3 (categorical)",
					 (unsigned) in->target_kind);
			return MLX_ECORRUPT;
		}
		if (!mlx_check_text((const uint8_t *) in->target, strlen(in->target),
							1, MLX_MODEL_MAX_NAME_LEN, "target name",
							errbuf, errlen))
			return MLX_ECORRUPT;
	}

	/* unique input names, and the target not among them */
	sorted = mlx_alloc(ctx, (size_t) in->ninputs * sizeof(*sorted));
	if (sorted == NULL)
	{
		snprintf(errbuf, errlen, "out of memory checking model inputs");
		return MLX_ENOMEM;
	}
	for (i = 0; i < in->ninputs; i++)
		sorted[i] = &in->inputs[i];
	qsort(sorted, (size_t) in->ninputs, sizeof(*sorted), cmp_input_name);
	for (i = 1; i < in->ninputs && st == MLX_OK; i++)
	{
		if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0)
		{
			snprintf(errbuf, errlen, "input %d has the same name as input %d",
					 (int) (sorted[i] - in->inputs) + 1,
					 (int) (sorted[i - 1] - in->inputs) + 1);
			st = MLX_ECORRUPT;
		}
	}
	if (st == MLX_OK && in->target != NULL)
	{
		int32_t		lo = 0;
		int32_t		hi = in->ninputs;

		while (lo < hi)
		{
			int32_t		mid = lo + (hi - lo) / 2;
			int			c = strcmp(sorted[mid]->name, in->target);

			if (c == 0)
			{
				snprintf(errbuf, errlen, "target column is also input %d",
						 (int) (sorted[mid] - in->inputs) + 1);
				st = MLX_ECORRUPT;
				break;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	mlx_free(ctx, sorted);
	if (st == MLX_OK && features != NULL)
		*features = (int32_t) total;
	return st;
}

uint64_t
mlx_inputs_section_size(const mlx_inputs *in)
{
	uint64_t	size = MLX_INPUTS_COUNT_SIZE + MLX_INPUTS_TARGET_MIN_SIZE;
	int32_t		i;
	int32_t		j;

	for (i = 0; i < in->ninputs; i++)
	{
		const mlx_input *x = &in->inputs[i];

		size += MLX_INPUT_FIXED_SIZE + strlen(x->name);
		if (x->kind == MLX_INPUT_CATEGORICAL)
		{
			for (j = 0; j < x->nfeat; j++)
				size += MLX_CATEGORY_FIXED_SIZE +
					(x->categories[j] ? strlen(x->categories[j]) : 0);
		}
		else
			size += 8 * (uint64_t) x->nfeat;
	}
	if (in->target != NULL)
		size += 2 + strlen(in->target);
	return size;
}

int32_t
mlx_inputs_find_category(const mlx_input *in, const char *value)
{
	int32_t		lo;
	int32_t		hi;

	if (in == NULL || in->kind != MLX_INPUT_CATEGORICAL ||
		in->categories == NULL || in->nfeat < 1)
		return -1;
	lo = in->categories[0] == NULL ? 1 : 0;
	if (value == NULL)
		return lo == 1 ? 0 : -1;
	hi = in->nfeat;
	while (lo < hi)
	{
		int32_t		mid = lo + (hi - lo) / 2;
		int			c = strcmp(in->categories[mid], value);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/*
 * Write the name of feature j of input x into buf (room for the longest
 * uncut name) and return its length, cut to MLX_MODEL_MAX_NAME_LEN bytes at
 * a UTF-8 character boundary.
 */
static size_t
feature_name(const mlx_input *x, int32_t j, char *buf, size_t buflen)
{
	size_t		n;

	if (x->kind == MLX_INPUT_CATEGORICAL)
	{
		if (x->categories[j] == NULL)
			snprintf(buf, buflen, "%s IS NULL", x->name);
		else
			snprintf(buf, buflen, "%s=%s", x->name, x->categories[j]);
	}
	else if (x->kind == MLX_INPUT_ARRAY)
		snprintf(buf, buflen, "%s[%d]", x->name, (int) j + 1);
	else
		snprintf(buf, buflen, "%s", x->name);
	n = strlen(buf);
	if (n > MLX_MODEL_MAX_NAME_LEN)
	{
		n = MLX_MODEL_MAX_NAME_LEN;
		while (n > 0 && ((unsigned char) buf[n] & 0xC0) == 0x80)
			n--;
		buf[n] = '\0';
	}
	return n;
}

/* longest uncut feature name: "name=category" or "name IS NULL" or "name[n]" */
#define FEATURE_NAME_BUF (MLX_MODEL_MAX_NAME_LEN + 1 + MLX_MODEL_MAX_CATEGORY_LEN + 16)

mlx_status
mlx_inputs_feature_names(const mlx_inputs *in, const mlx_ctx *ctx,
						 char ***names)
{
	char		errbuf[256];
	char		buf[FEATURE_NAME_BUF];
	int32_t		k;
	int32_t		i;
	int32_t		j;
	int32_t		f;
	size_t		total;
	char	  **out;
	char	   *p;
	mlx_status	st;

	*names = NULL;
	/* the names do not depend on the imputation values: any will do */
	st = mlx_check_inputs(in, -1, true, ctx, &k, errbuf, sizeof(errbuf));
	if (st != MLX_OK)
		return st == MLX_ENOMEM ? MLX_ENOMEM : MLX_EINVAL;

	total = (size_t) k * sizeof(char *);
	for (i = 0; i < in->ninputs; i++)
		for (j = 0; j < in->inputs[i].nfeat; j++)
			total += feature_name(&in->inputs[i], j, buf, sizeof(buf)) + 1;

	out = mlx_alloc(ctx, total);
	if (out == NULL)
		return MLX_ENOMEM;
	p = (char *) (out + k);
	f = 0;
	for (i = 0; i < in->ninputs; i++)
	{
		for (j = 0; j < in->inputs[i].nfeat; j++)
		{
			size_t		n = feature_name(&in->inputs[i], j, buf, sizeof(buf));

			memcpy(p, buf, n + 1);
			out[f++] = p;
			p += n + 1;
		}
	}
	*names = out;
	return MLX_OK;
}
