/*
 * softmax.h
 *	  Multinomial (softmax) logistic regression: the fitted model, scoring,
 *	  the flat state of one training pass, and the Newton step.
 *
 * A model of K classes has a K x (nfeat + 1) coefficient matrix W,
 * row-major by class, column 0 the intercept (0 when none is fitted):
 *
 *	  P(class c | x) = exp(eta_c) / sum_j exp(eta_j),  eta_c = W[c][0] +
 *	  W[c][1..nfeat] . x
 *
 * The training objective is the class-weighted negative log-likelihood
 * sum_i cw[y_i] * -log P(y_i | x_i) plus (lambda / 2) * the sum of squared
 * slopes (intercepts unpenalized).  The free parameters are
 *
 *	  reference parametrization (K == 2 or lambda == 0): class 0's row is
 *		  fixed at zero, classes 1..K-1 are free (statsmodels' MNLogit; for
 *		  K == 2 exactly binary logistic regression with beta = W[1]);
 *	  symmetric parametrization (K > 2 and lambda > 0): all K rows are free
 *		  (scikit-learn's multinomial LogisticRegression).  The objective
 *		  does not change when a constant is added to every intercept, so
 *		  the objective of the optimizer adds (eps / 2) (sum_c W[c][0])^2
 *		  (zero at the optimum it returns, which has sum_c W[c][0] = 0,
 *		  the point scikit-learn's solvers reach from a zero start).  The
 *		  slopes of the optimum sum to zero over the classes by themselves.
 *
 * The free-parameter vector theta is the free classes' rows in class order,
 * each row its intercept (only when the model has one) then its nfeat
 * slopes: nparams = nfree * (intercept + nfeat), nfree = K - 1 or K.
 *
 * A training pass (a parallel aggregate; states merge) evaluates, at the
 * current model, the unpenalized weighted loss, its gradient with respect
 * to theta and, for Newton's method, its Hessian.  The caller adds the
 * penalty (mlx_softmax_objective) and takes a step: Newton
 * (mlx_softmax_newton_step) while nparams is moderate, L-BFGS
 * (core/lbfgs.h) when the Hessian would be large.
 */
#ifndef MLX_SOFTMAX_H
#define MLX_SOFTMAX_H

#include "core/mlx_core.h"

#define MLX_SOFTMAX_STATE_VERSION 1
#define MLX_SOFTMAX_MAX_CLASSES 1000
#define MLX_SOFTMAX_MAX_FEATURES 100000
/* largest nparams of a state with a Hessian (8 MB of doubles) */
#define MLX_SOFTMAX_MAX_NEWTON_PARAMS 1000
/* largest nparams of a gradient-only state */
#define MLX_SOFTMAX_MAX_PARAMS 1000000

typedef enum mlx_softmax_solver
{
	MLX_SOFTMAX_NEWTON = 1,
	MLX_SOFTMAX_LBFGS = 2
} mlx_softmax_solver;

/*
 * A fitted multinomial logistic regression.  All pointers are owned by
 * whoever built the struct (the decoder allocates them from its ctx).
 */
typedef struct mlx_softmax_fit
{
	int32_t		nfeat;			/* >= 1 */
	int32_t		nclasses;		/* 2..MLX_SOFTMAX_MAX_CLASSES */
	bool		intercept;
	bool		converged;
	bool		separation;		/* the training rows were classified
								 * perfectly (no finite unpenalized optimum) */
	uint8_t		solver;			/* mlx_softmax_solver used */
	double		lambda;			/* L2 penalty on the slopes, >= 0 */
	int64_t		nrows;			/* rows used */
	int64_t		nskipped;		/* rows skipped (NULL label or features) */
	int32_t		iterations;		/* optimizer iterations (Newton steps or
								 * L-BFGS iterations) */
	int32_t		passes;			/* passes over the data */
	double		loglik;			/* class-weighted log-likelihood, <= 0 */
	double		loglik_null;	/* of the intercept-only model (NaN when
								 * unknown) */
	double	   *coef;			/* nclasses * (nfeat + 1), row-major by
								 * class; column 0 the intercept (0 without
								 * one); all finite */
	double	   *class_weight;	/* nclasses, each finite and > 0 */
	char	  **classes;		/* nclasses labels, UTF-8, 0..1024 bytes,
								 * distinct */
} mlx_softmax_fit;

/* Whether the optimizer of this model uses the symmetric parametrization. */
static inline bool
mlx_softmax_symmetric(int nclasses, double lambda)
{
	return nclasses > 2 && lambda > 0;
}

/*
 * Free parameters of a model with these dimensions: (K - 1 or K) *
 * (intercept + nfeat); 0 when an argument is out of range or the count
 * exceeds MLX_SOFTMAX_MAX_PARAMS.
 */
int64_t		mlx_softmax_nparams(int nclasses, int nfeat, bool intercept,
								double lambda);

/*
 * Class probabilities of x (nfeat doubles, any alignment) into out
 * (nclasses doubles, summing to 1, computed with the max subtracted so no
 * exp overflows); returns the index of the most probable class (the lowest
 * index among ties).
 */
int			mlx_softmax_predict_proba(const mlx_softmax_fit *f, const void *x,
									  double *out);

/* theta (nparams doubles) from the coefficient matrix of f, and back. */
void		mlx_softmax_get_theta(const mlx_softmax_fit *f, double *theta);
void		mlx_softmax_set_theta(mlx_softmax_fit *f, const double *theta);

/*
 * The pass state: one flat block, native byte order, 8-byte aligned by the
 * caller.  After the header: double grad[nparams], then, when hessian is
 * 1, double hess[nparams * nparams] (symmetric; row-major; both triangles
 * valid once the state has been through mlx_softmax_state_finish, only the
 * upper triangle, hess[i * nparams + j] with j >= i, before).
 */
typedef struct mlx_softmax_state
{
	uint8_t		version;		/* MLX_SOFTMAX_STATE_VERSION */
	uint8_t		hessian;		/* 0 or 1 */
	uint8_t		intercept;		/* 0 or 1 */
	uint8_t		symmetric;		/* 0 or 1: the parametrization */
	int32_t		nclasses;
	int32_t		nfeat;
	int32_t		nparams;
	int64_t		nrows;			/* rows added */
	int64_t		nskipped;		/* rows the caller skipped */
	int64_t		nwrong;			/* rows whose most probable class (at the
								 * current model) is not their label */
	double		loss;			/* sum cw * -log P(y | x), >= 0 */
	double		weight;			/* sum of the rows' class weights */
} mlx_softmax_state;

/*
 * Bytes of a state; 0 when an argument is out of range (hessian with more
 * than MLX_SOFTMAX_MAX_NEWTON_PARAMS parameters, too many classes or
 * features).
 */
size_t		mlx_softmax_state_size(bool hessian, int nclasses, int nfeat,
								   bool intercept, double lambda);

/* Initialize a block of mlx_softmax_state_size() bytes (zero sums). */
mlx_status	mlx_softmax_state_init(mlx_softmax_state *s, bool hessian,
								   int nclasses, int nfeat, bool intercept,
								   double lambda);

/*
 * Check a state block of 'size' bytes from outside: version, flags,
 * ranges, nparams consistent with the dimensions, exact size, counts >= 0
 * (nwrong <= nrows), loss and weight finite and >= 0, every gradient and
 * Hessian entry finite.  MLX_ECORRUPT with a message.
 */
mlx_status	mlx_softmax_state_validate(const mlx_softmax_state *s, size_t size,
									   char *errbuf, size_t errlen);

/* Bytes of scratch mlx_softmax_state_add needs (8-byte aligned). */
size_t		mlx_softmax_scratch_size(int nclasses, int nfeat);

/*
 * Add one row of class cls (0-based) with features x (nfeat doubles, any
 * alignment, all finite: the caller checks) at the current model cur
 * (same nclasses, nfeat, intercept and parametrization as the state; its
 * class_weight gives the row's weight).  scratch holds
 * mlx_softmax_scratch_size() bytes.  MLX_EINVAL for cls out of range,
 * MLX_EMISMATCH for a model of other dimensions, MLX_ENONFINITE when a
 * sum would overflow (the state is then unchanged).
 */
mlx_status	mlx_softmax_state_add(mlx_softmax_state *s,
								  const mlx_softmax_fit *cur, int cls,
								  const void *x, void *scratch);

/*
 * Fold b into a (same dimensions, else MLX_EMISMATCH).  MLX_ENONFINITE
 * when a sum would overflow (a unchanged).
 */
mlx_status	mlx_softmax_state_merge(mlx_softmax_state *a,
									const mlx_softmax_state *b);

/* Fill the lower triangle of the Hessian (no-op without one). */
void		mlx_softmax_state_finish(mlx_softmax_state *s);

/*
 * The penalized objective at cur from a finished state of a pass at cur:
 * *f = loss + (lambda / 2) sum of squared slopes (+ the intercept-sum term
 * of the symmetric parametrization), g (nparams doubles) its gradient with
 * respect to theta.
 */
void		mlx_softmax_objective(const mlx_softmax_state *s,
								  const mlx_softmax_fit *cur, double *f,
								  double *g);

/*
 * The Newton step from a finished state with a Hessian of a pass at cur:
 * delta (nparams doubles) solving (H + penalty Hessian) delta = -g, g the
 * gradient of mlx_softmax_objective.  A Hessian that is not positive
 * definite (collinear features without a penalty, separation) gives the
 * minimum-norm step of its pseudo-inverse (eigenvalues below 1e-10 times
 * the largest are dropped) instead of failing.  *decrement, when not NULL,
 * gets the Newton decrement -g . delta / 2 (>= 0), the predicted decrease
 * of the objective.  MLX_ENOMEM, MLX_ELAPACK, MLX_EINVAL (no Hessian).
 */
mlx_status	mlx_softmax_newton_step(const mlx_softmax_state *s,
									const mlx_softmax_fit *cur,
									const mlx_ctx *ctx, double *delta,
									double *decrement);

#endif							/* MLX_SOFTMAX_H */
