
------------------------------------------------------------------------------
-- 40: every internal aggregate has a final function (issue 21, item 1)
--
-- ml._tree_sample, ml._tree_gather, ml._linreg_train, ml._glm_pass_state,
-- ml._kmeans_pass_state and ml._softmax_pass had none, so their value was
-- the transition state as it stood, including room allocated for rows to
-- come.  Their final functions check the state and return exactly the bytes
-- the aggregate wrote (the tree states cut to their rows).  The value keeps
-- the state's layout: ml.train reads it as before.  ml._processes keeps no
-- final function: its state is an integer.
------------------------------------------------------------------------------

CREATE FUNCTION ml._tree_state_final(state bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_tree_state_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml._tree_state_final(bytea) IS
  'internal: final function of ml._tree_sample and ml._tree_gather (the rows gathered, without the room kept for more)';

CREATE FUNCTION ml._linreg_train_final(state bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_linreg_train_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml._linreg_train_final(bytea) IS
  'internal: final function of ml._linreg_train (the checked state, for ml.train)';

CREATE FUNCTION ml._glm_pass_state_final(state bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_glm_pass_state_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml._glm_pass_state_final(bytea) IS
  'internal: final function of ml._glm_pass_state (the checked state, for ml.train)';

CREATE FUNCTION ml._kmeans_pass_state_final(state bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_kmeans_pass_state_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml._kmeans_pass_state_final(bytea) IS
  'internal: final function of ml._kmeans_pass_state (the checked state, for ml.train)';

CREATE FUNCTION ml._softmax_pass_final(state bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_softmax_pass_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml._softmax_pass_final(bytea) IS
  'internal: final function of ml._softmax_pass (the checked state, for ml.train)';

DROP AGGREGATE ml._tree_sample(float8[], float8, bigint);
CREATE AGGREGATE ml._tree_sample(x float8[], fraction float8, seed bigint) (
    SFUNC = ml._tree_sample_sfunc,
    STYPE = bytea,
    FINALFUNC = ml._tree_state_final,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml._tree_gather_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml._tree_sample(float8[], float8, bigint) IS
  'internal: the deterministic row sample ml.train takes the bin edges of tree models from';

DROP AGGREGATE ml._tree_gather(float8[], float8, boolean, bytea);
CREATE AGGREGATE ml._tree_gather(x float8[], y float8, held_out boolean, bins bytea) (
    SFUNC = ml._tree_gather_sfunc,
    STYPE = bytea,
    FINALFUNC = ml._tree_state_final,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml._tree_gather_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml._tree_gather(float8[], float8, boolean, bytea) IS
  'internal: the binning pass of tree models (rows binned with the given edges)';

DROP AGGREGATE ml._linreg_train(float8, boolean, boolean, bytea, "any");
CREATE AGGREGATE ml._linreg_train(y float8, held_out boolean, impute boolean,
                                  encoder bytea, VARIADIC "any") (
    SFUNC = ml._linreg_train_sfunc,
    STYPE = bytea,
    FINALFUNC = ml._linreg_train_final,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml._linreg_train_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml._linreg_train(float8, boolean, boolean, bytea, "any") IS
  'internal: ml.train''s linear regression pass; its value holds the QR factors of the training and held-out rows';

DROP AGGREGATE ml._glm_pass_state(float8, bytea, bytea, "any");
CREATE AGGREGATE ml._glm_pass_state(y float8, current bytea, encoder bytea, VARIADIC "any") (
    SFUNC = ml._glm_pass_cols_sfunc,
    STYPE = bytea,
    FINALFUNC = ml._glm_pass_state_final,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml._glm_pass_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml._glm_pass_state(float8, bytea, bytea, "any") IS
  'internal: ml._glm_pass over table columns, returning its state (ml.train reads the next model, processes and rows from it)';

DROP AGGREGATE ml._kmeans_pass_state(bytea, bytea, "any");
CREATE AGGREGATE ml._kmeans_pass_state(current bytea, encoder bytea, VARIADIC "any") (
    SFUNC = ml._kmeans_pass_cols_sfunc,
    STYPE = bytea,
    FINALFUNC = ml._kmeans_pass_state_final,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml._kmeans_pass_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml._kmeans_pass_state(bytea, bytea, "any") IS
  'internal: ml._kmeans_pass over table columns, returning its state (ml.train reads the next model, processes and rows from it)';

DROP AGGREGATE ml._softmax_pass(int4, float8[], bytea, boolean);
CREATE AGGREGATE ml._softmax_pass(class int4, x float8[], current bytea, hessian boolean) (
    SFUNC = ml._softmax_pass_sfunc,
    STYPE = bytea,
    FINALFUNC = ml._softmax_pass_final,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = ml._softmax_pass_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml._softmax_pass(int4, float8[], bytea, boolean) IS
  'internal: one evaluation of the multinomial logistic regression objective (loss, gradient, optionally Hessian) at the coefficients of the given model, over 0-based class indexes';
