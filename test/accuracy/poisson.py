"""Accuracy of Poisson regression (ml.train algorithm 'poisson_regression') against
statsmodels GLM(family=Poisson()) and scikit-learn's PoissonRegressor, computed here at
test time.

Generated counts (4,000 rows; two numeric features, one boolean, one categorical with three
levels) drawn from a known log-linear model with a fixed seed: the unpenalized fit must match
statsmodels' coefficients, standard errors, z values, p-values, log-likelihood, deviance and
null deviance to 1e-6 relative; with lambda = n * alpha it must match
PoissonRegressor(alpha) (whose objective is the mean half deviance plus alpha/2 |w|^2) to
1e-5; predictions by row equal statsmodels' predicted means.
"""

import io

import numpy as np
import statsmodels.api as sm
from sklearn.linear_model import PoissonRegressor


def checks(conn, report, compare):
    cur = conn.cursor()
    rng = np.random.default_rng(11)
    n = 4000
    a = rng.normal(size=n)
    b = rng.uniform(-2, 2, size=n)
    flag = rng.random(n) < 0.3
    region = rng.choice(["east", "north", "west"], size=n)
    eta = 0.3 + 0.6 * a - 0.25 * b + 0.4 * flag + np.where(region == "north", 0.5, 0) \
        + np.where(region == "west", -0.3, 0)
    y = rng.poisson(np.exp(eta))

    cur.execute("DROP TABLE IF EXISTS acc_pois")
    cur.execute("CREATE TABLE acc_pois (id int, a float8, b float8, flag boolean, region text, y int)")
    buf = io.StringIO()
    for i in range(n):
        buf.write("%d\t%r\t%r\t%s\t%s\t%d\n" % (i, float(a[i]), float(b[i]), "t" if flag[i] else "f",
                                              region[i], int(y[i])))
    buf.seek(0)
    cur.copy_expert("COPY acc_pois FROM STDIN", buf)
    cur.execute("ANALYZE acc_pois")
    cur.execute("SELECT ml.drop_model(name) FROM ml.model_names WHERE name LIKE 'acc_pois%'")

    # the design ml.train builds: a, b, flag, then region one-hot in byte order
    # (east, north, west); with an intercept the one-hot block is collinear, so
    # the reference drops nothing and the comparison uses a full-rank subset:
    # features a, b, flag and the region indicators north and west.
    X = np.column_stack([a, b, flag.astype(float), (region == "north").astype(float),
                         (region == "west").astype(float)])
    Xc = sm.add_constant(X)
    ref = sm.GLM(y, Xc, family=sm.families.Poisson()).fit(method="IRLS", tol=1e-13, maxiter=200)
    cur.execute("CREATE TEMP VIEW acc_pois_v AS SELECT id, a, b, flag, (region = 'north') AS north, "
                "(region = 'west') AS west, y FROM acc_pois")
    cur.execute("SELECT metrics FROM ml.train('acc_pois', '(SELECT * FROM acc_pois_v)', 'y', "
                "'poisson_regression', features => ARRAY['a', 'b', 'flag', 'north', 'west'])")
    cur.execute("SELECT estimate, std_error, t_value, p_value FROM ml.coefficients(ml.model('acc_pois'))")
    rows = cur.fetchall()
    compare("poisson: coefficients vs statsmodels GLM Poisson", [r[0] for r in rows], ref.params, 1e-6)
    compare("poisson: standard errors vs statsmodels", [r[1] for r in rows], ref.bse, 1e-6)
    compare("poisson: z values vs statsmodels", [r[2] for r in rows], ref.tvalues, 1e-6)
    compare("poisson: p-values vs statsmodels", [r[3] for r in rows], ref.pvalues, 1e-5)
    cur.execute("SELECT ml.model_info(ml.model('acc_pois'))")
    info = cur.fetchone()[0]
    compare("poisson: log-likelihood, null log-likelihood vs statsmodels llf, llnull",
            [info.get("log_likelihood"), info.get("null_log_likelihood")], [ref.llf, ref.llnull], 1e-8)
    compare("poisson: deviance and null deviance vs statsmodels",
            [info.get("deviance"), info.get("null_deviance")], [ref.deviance, ref.null_deviance], 1e-8)
    report("poisson: converged in at most 12 IRLS passes",
           info.get("converged") is True and info.get("iterations", 99) <= 12,
           "iterations %s" % info.get("iterations"))
    cur.execute("SELECT ml.predict('acc_pois', t) FROM acc_pois_v t ORDER BY id")
    compare("poisson: ml.predict by row vs statsmodels predicted means",
            [r[0] for r in cur.fetchall()], ref.predict(Xc), 1e-8)

    # categorical and boolean columns encoded by ml.train itself give the same fit
    # (region one-hot is rank deficient with the intercept: compare predictions)
    cur.execute("SELECT version FROM ml.train('acc_pois_cat', 'acc_pois', 'y', 'poisson_regression', "
                "options => '{\"exclude\": [\"id\"], \"lambda\": 1e-9}')")
    cur.execute("SELECT ml.predict('acc_pois_cat', t) FROM acc_pois t ORDER BY id")
    compare("poisson: one-hot region by ml.train predicts as the reference (tiny ridge)",
            [r[0] for r in cur.fetchall()], ref.predict(Xc), 1e-6)

    # penalized: sklearn PoissonRegressor(alpha) <=> lambda = n * alpha
    for alpha in (0.001, 0.05):
        sk = PoissonRegressor(alpha=alpha, tol=1e-12, max_iter=10000, solver="newton-cholesky").fit(X, y)
        cur.execute("SELECT version FROM ml.train('acc_pois_l2', '(SELECT * FROM acc_pois_v)', 'y', "
                    "'poisson_regression', features => ARRAY['a', 'b', 'flag', 'north', 'west'], "
                    "options => %s)", ('{"lambda": %r}' % (n * alpha),))
        cur.execute("SELECT estimate FROM ml.coefficients(ml.model('acc_pois_l2'))")
        compare("poisson lambda=n*%g: coefficients vs sklearn PoissonRegressor(alpha=%g)" % (alpha, alpha),
                [r[0] for r in cur.fetchall()], np.concatenate([[sk.intercept_], sk.coef_]), 1e-5)

    cur.execute("SELECT ml.drop_model(name) FROM ml.model_names WHERE name LIKE 'acc_pois%'")
    cur.execute("DROP VIEW acc_pois_v")
    cur.execute("DROP TABLE acc_pois")
