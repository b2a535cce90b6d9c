-- NULL handling of ml.linreg_fit: rows with a NULL target or a NULL feature
-- array are skipped and counted; no usable rows gives NULL.
CREATE TABLE nl AS
SELECT i, CASE WHEN i % 10 = 0 THEN NULL ELSE ARRAY[i::float8, (i * i) % 17] END AS x,
       CASE WHEN i % 15 = 0 THEN NULL ELSE 2 + 0.5 * i - 0.25 * ((i * i) % 17) END AS y
FROM generate_series(1, 300) AS i;

-- 30 rows have a NULL array, 20 a NULL target, 10 both: 40 skipped
SELECT j->'n_rows' AS n_rows, j->'n_skipped' AS n_skipped
FROM (SELECT ml.model_info(ml.linreg_fit(y, x)) AS j FROM nl) s;

SELECT term, round(estimate::numeric, 10) AS estimate
FROM ml.coefficients((SELECT ml.linreg_fit(y, x) FROM nl));

-- skipped rows before the first usable row are counted as well
SELECT j->'n_rows' AS n_rows, j->'n_skipped' AS n_skipped
FROM (SELECT ml.model_info(ml.linreg_fit(y, x ORDER BY i DESC)) AS j FROM nl) s;

-- no rows at all
SELECT ml.linreg_fit(y, x) IS NULL AS no_rows FROM nl WHERE false;

-- only unusable rows
SELECT ml.linreg_fit(y, x) IS NULL AS only_nulls FROM nl WHERE x IS NULL;

-- GROUP BY with a group that has no usable rows
SELECT (i % 10 = 0) AS all_null_x, ml.linreg_fit(y, x) IS NULL AS model_is_null
FROM nl GROUP BY 1 ORDER BY 1;

-- scoring is STRICT: a NULL model or NULL features give NULL
SELECT ml.predict(NULL, ARRAY[1, 2]::float8[]) IS NULL AS null_model,
       ml.predict((SELECT ml.linreg_fit(y, x) FROM nl), NULL::float8[]) IS NULL AS null_x;
SELECT count(*) AS n FROM ml.coefficients(NULL);
SELECT ml.model_info(NULL) IS NULL AS null_info;
