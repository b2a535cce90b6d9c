-- PCA's feature limit (issue 21, item 4): the final SVD is one LAPACK call
-- that cannot be canceled, so PCA takes at most 1,200 features (about half
-- a second of SVD) and refuses more at the first row, before the work.
\set SHOW_CONTEXT never
SET extra_float_digits = 0;

CREATE FUNCTION pg_temp.fails(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- 1,201 features: refused with program_limit_exceeded
SELECT pg_temp.fails($q$
  SELECT ml.pca_fit(x) FROM (SELECT i, array_agg((i * j) % 7 + 0.5) AS x
                             FROM generate_series(1, 3) i, generate_series(1, 1201) j
                             GROUP BY i) t $q$);
SELECT pg_temp.fails($q$
  SELECT ml.pca_fit(x, 2) FROM (SELECT i, array_agg((i * j) % 7 + 0.5) AS x
                                FROM generate_series(1, 3) i, generate_series(1, 1601) j
                                GROUP BY i) t $q$);
-- ml.train refuses it the same way
SELECT pg_temp.fails($q$
  SELECT * FROM ml.train('pca_wide',
    '(SELECT array_agg(((i * j) % 7 + 0.5)::float8) AS x
      FROM generate_series(1, 3) i, generate_series(1, 1201) j GROUP BY i)', NULL, 'pca') $q$);

-- up to the limit it works (a few components of 1,200 features)
SELECT ml.model_info(m)->>'algorithm' AS algorithm,
       (SELECT count(*) FROM ml.components(m)) AS components
FROM (SELECT ml.pca_fit(x, 2) AS m
      FROM (SELECT i, array_agg(((i * j) % 7 + 0.5)::float8) AS x
            FROM generate_series(1, 3) i, generate_series(1, 1200) j GROUP BY i) t) s;
