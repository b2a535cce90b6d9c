-- The fixed table the model corpus (test/corpus/<release>/) was trained on and
-- scored on: 90 rows from closed-form expressions (no random()), every column
-- type ml.train encodes (float8, integer, boolean, text, float8[]), a few NULL
-- features (imputed, or missing for trees), a text value never seen in
-- training on the scoring rows 86-90 (their targets are NULL, so training
-- skips them), and a NULL array element.  Never edit it: the stored
-- predictions are of exactly these rows.
CREATE TABLE public.corpus_input AS
SELECT i AS id,
       CASE WHEN i % 17 = 5 THEN NULL ELSE round((3 * sin(i) + 0.1 * i)::numeric, 6)::float8 END AS x1,
       round((2 * cos(0.7 * i))::numeric, 6)::float8 AS x2,
       CASE WHEN i % 23 = 11 THEN NULL ELSE i % 7 END AS n,
       (i % 3 = 0) AS flag,
       CASE WHEN i > 85 THEN 'purple' WHEN i % 29 = 3 THEN NULL
            ELSE (ARRAY['red', 'green', 'blue', 'red'])[(i * 7) % 4 + 1] END AS color,
       ARRAY[(i % 5)::float8, ((i * 3) % 11)::float8] AS arr,
       (i % 4) AS c1, ((i * 5) % 9) AS c2, ((i * i) % 6) AS c3,
       t.y,
       CASE WHEN t.y IS NULL THEN NULL ELSE t.y > 4 END AS ybin,
       CASE WHEN t.y IS NULL THEN NULL WHEN t.y < 2 THEN 'low' WHEN t.y < 6 THEN 'mid' ELSE 'high' END AS ycls,
       CASE WHEN t.y IS NULL THEN NULL ELSE floor(exp(0.15 * (3 * sin(i) + 0.1 * i) + 0.1 * (i % 7)))::int + i % 3 END AS ycount
FROM generate_series(1, 90) AS i,
     LATERAL (SELECT CASE WHEN i > 85 THEN NULL
                          ELSE round((2 * (3 * sin(i) + 0.1 * i) - 2 * cos(0.7 * i) + 0.5 * (i % 7)
                                      + CASE WHEN i % 3 = 0 THEN 1 ELSE 0 END
                                      + 0.8 * sin(13 * i))::numeric, 6)::float8 END AS y) AS t;
