"""Logistic regression trained by per-iteration subspace optimisation."""

import warnings
from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, _fit_context
from sklearn.linear_model._base import LinearClassifierMixin, SparseCoefMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._array_api import check_same_namespace
from sklearn.utils._encode import _unique
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    validate_data,
)

from . import _namespace as ns
from ._base import (
    LINEAR_SOLVER_PARAMETER_CONSTRAINTS,
    LogitProbabilityMixin,
    SubspaceOptimizerMixin,
)
from ._compat import (
    LOGISTIC_KEYWORDS,
    ForeignValuesMixin,
    external_stacklevel,
    refuse_keywords,
)
from ._directions import resolve_direction
from ._losses import BinaryLogLoss, MultinomialLogLoss
from ._models import DaskLinearModel, LinearModel


def _device_class_weights(class_weight, classes, y, sample_weight):
    """The weight of every class for labels ``y`` on a device, checked.

    "balanced" sums the sample weights of each class on the device (one
    number per class crosses, for the checks); a dict's weights are looked up
    on the host for the classes (as many numbers) and cross in float64, so
    they are not rounded to the library's default float dtype.

    Parameters
    ----------
    class_weight : dict or "balanced"
        The ``class_weight`` parameter.
    classes, y, sample_weight : arrays of X's namespace, on X's device
        The sorted class labels, the labels and the sample weights.

    Returns
    -------
    array of shape (n_classes,)
        In the namespace and on the device of ``y``.
    """
    from sklearn.utils._array_api import _convert_to_numpy

    xp = ns.namespace(sample_weight)
    if class_weight == "balanced":
        # A class without weight is reported just below, so the division's
        # warning would only repeat it.
        with np.errstate(divide="ignore", invalid="ignore"):
            weights = compute_class_weight(
                "balanced", classes=classes, y=y, sample_weight=sample_weight
            )
        host = ns.to_host(weights)
    else:
        labels = _convert_to_numpy(classes, xp)
        host = compute_class_weight(class_weight, classes=labels, y=labels)
        weights = ns.from_host(host, sample_weight)
    _check_class_weight(host, _convert_to_numpy(classes, xp))
    return weights


def _check_class_weight(class_weight, classes):
    """Raise a ValueError for a class weight that is not finite or negative."""
    if not np.all(np.isfinite(class_weight)):
        empty = classes[~np.isfinite(class_weight)]
        raise ValueError(
            f"class_weight='balanced' needs a positive total sample weight "
            f"in every class; these classes have none: {empty.tolist()}."
        )
    if np.any(class_weight < 0):
        negative = classes[class_weight < 0]
        raise ValueError(
            "class_weight must not be negative; these classes have a "
            f"negative weight: {negative.tolist()}."
        )


class SOLogisticRegression(
    LogitProbabilityMixin,
    LinearClassifierMixin,
    SparseCoefMixin,
    SubspaceOptimizerMixin,
    ForeignValuesMixin,
    BaseEstimator,
):
    """Logistic regression whose step sizes are optimised on every iteration.

    Minimises exactly the objective of
    :class:`sklearn.linear_model.LogisticRegression` with the same ``C``::

        C * sum_i s_i * loss_i + 1/2 * ||W||^2

    (``s_i`` the sample weight times the class weight, the intercept not
    penalised), binary with one coefficient vector and multiclass with the
    multinomial (softmax) loss, so both estimators share the same optimum.
    Each iteration performs two products with X (the gradient ``X.T R`` and
    the image ``X D`` of the new direction ``D``); every trial step of the
    search reuses cached products, so the rates cost O(n_samples) each.

    Supports scikit-learn's callbacks (``set_callbacks`` with, for example,
    :class:`sklearn.callback.ProgressBar` or
    :class:`sklearn.callback.ScoringMonitor`) for every solver and
    direction: a fit is one task with one subtask per iteration, whose
    ``fitted_estimator`` predicts as if the fit had stopped there. A callback
    whose ``on_fit_task_end`` returns True stops the fit after that
    iteration, without a ConvergenceWarning.

    Parameters
    ----------
    C : float, default=1.0
        Inverse of the L2 regularisation strength, as in LogisticRegression;
        ``np.inf`` for no penalty (the optimum may then be at infinity, on
        separable data).
    penalty : {"l2", None}, default="deprecated"
        Accepted for code written for LogisticRegression, which deprecated
        this parameter in scikit-learn 1.8 (to be removed in 1.10) in favour
        of ``l1_ratio`` and ``C``; we follow that convention. Leave it unset:
        setting it warns with a ``FutureWarning``, as LogisticRegression
        does. ``"l2"`` is the penalty used anyway; ``None`` means no penalty,
        exactly ``C=np.inf`` (a ``C`` other than 1.0 is then ignored, with a
        warning, as in LogisticRegression). ``"l1"`` and ``"elasticnet"``
        raise a ValueError: only the L2 penalty is supported.
    l1_ratio : float, default=0.0
        LogisticRegression's way of choosing the penalty, accepted for
        compatibility: only ``0.0`` (the L2 penalty, its default) is
        supported, any other value raises a ValueError.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    solver : {"ls", "lo", "ps", "so", "fixed"}, default="ls"
        How the rates are chosen on each iteration:

        - "ls": Armijo backtracking along the direction (a line search);
        - "lo": the exact minimiser along the direction (line optimisation);
        - "ps": learning rate and momentum rate together (plane search);
        - "so": learning, momentum and ``memory_directions`` older-move rates
          together (subspace optimisation); for this one-block model "so" is
          "ps" plus the older moves;
        - "fixed": the constant ``learning_rate`` and ``momentum`` (a baseline).

        Every trial step costs O(n_samples * n_outputs), never a product.
        The inner problems of "lo", "ps" and "so" are solved by Newton's
        method in the subspace (the problem is convex there, its Hessian
        exact), warm-started from the previous rates and never accepting a
        point worse than not moving.

        Why "ls" by default: in ``benchmarks/bench_logistic.py`` (README),
        "ls" reached the target objective first among our configurations on
        four of the five datasets (digits, breast cancer standardised and
        unscaled, sparse 100,000 x 20,000); with L-BFGS it was 1.3-2.4x
        ahead of "so" with L-BFGS, whose inner search costs more than the
        products it saves on small or very sparse X. "so/lbfgs" needs 10-37%
        fewer iterations than "ls/lbfgs" and is faster on large dense X
        (50,000 x 500: 1.17x, and "lo" 1.34x): try them there.
    direction : {"auto", "lbfgs", "gd", "adam", "newton", "newton-cg"}, default="auto"
        The search direction: L-BFGS (quasi-Newton; with the momentum
        direction this is "quasi-Newton with momentum"), minus the gradient,
        Adam's bias-corrected direction (its learning rate is replaced by
        the chosen rate), or Newton's direction. "gd" and "lbfgs" are
        preconditioned by the inverse of the Hessian's diagonal (by default
        with the intercepts eliminated: see ``preconditioner``), estimated
        at the start, after 20 iterations and then less often as it settles
        (two products each time, one round trip on dask; one product for
        "diagonal" or without an intercept), so that unscaled
        and uncentred features slow them down far less.

        "auto" takes "newton" when forming and factorising the Hessian
        costs at most about 5e6 operations (for example up to about 5,000
        samples for 30 features and two classes: breast cancer, wine, iris),
        else "lbfgs"; the fitted ``direction_`` says which (see
        :ref:`choosing`). On such small problems a Newton method needs 5-10
        iterations where L-BFGS needs tens, and a fit's cost is the Python
        overhead of its iterations, not its products.

        "newton" forms the exact Hessian at every iterate (one pass over X
        costing about ``n (d + 1)^2 q (q + 1) / 2`` operations, q the number
        of outputs, counted as "hessian" in ``product_counts_``) and solves
        it by Cholesky, as LogisticRegression's "newton-cholesky" does; the
        solver then chooses the step (and momentum) along it. It is
        unaffordable for thousands of coefficients. "newton-cg" solves the
        Newton system approximately by conjugate gradients on products with
        the Hessian (two products each), as LogisticRegression's
        "newton-cg" does: try it on large dense X with redundant features
        where L-BFGS needs many iterations; elsewhere it was behind L-BFGS
        (see :ref:`choosing`). Both work on every input type: on an
        array API library's device the Hessian pass and the Hessian
        products run there and only the Hessian's Gram blocks (O(n_params^2)
        numbers) cross to the host to be factorised; on a dask X each is one
        round trip.
    max_iter : int, default=2000
        Maximum number of iterations. Each costs two products with X (and
        a Newton direction's Hessian work), and unscaled data can need
        hundreds with L-BFGS, so the cap is generous. ``0`` is accepted, as
        in LogisticRegression: the model is the starting point (zero
        coefficients, or the previous fit's with ``warm_start``), with a
        ConvergenceWarning unless the gradient criterion already holds there.
    tol : float, default=1e-4
        Stop when ``max_j |g_j| <= tol`` where ``g`` is the gradient of the
        objective divided by ``C * sum_i s_i`` (the scaling scikit-learn's
        lbfgs solver uses), so ``tol`` does not depend on the number of
        samples or the scale of the sample weights.
    memory : int or "auto", default="auto"
        Number of curvature pairs kept by the L-BFGS direction. "auto" keeps
        100, fewer (but at least 10) if they would take more than a quarter
        of X's memory and more than 32 MiB. The direction costs
        O(memory x n_params) per iteration, small next to the products for
        this model: in ``benchmarks/bench_memory.py`` 100 pairs took
        1.06-1.86x fewer iterations than 10 with ``direction="lbfgs"`` on the
        raw digits, breast cancer and wine data and on a dense 50,000 x 500
        set.
    memory_directions : int, default=1
        Older moves ``theta_{k-j} - theta_{k-j-1}`` (j = 1, ...) added to the
        subspace by ``solver="so"``; their images cost no product.
    preconditioner : {"centred", "diagonal"}, default="centred"
        How the "gd" and "lbfgs" directions are preconditioned. "diagonal":
        by the inverse of the Hessian's diagonal. "centred": the same with
        the intercepts eliminated, as if each feature were centred by its
        curvature-weighted mean (Spark's virtual centring, without touching
        X): features whose mean is far from zero -- raw pixels, counts,
        any sparse X, which cannot be centred -- couple each weight with
        its intercept, which a diagonal cannot see. Each estimate costs one
        more product. Ignored without an intercept and by the other
        directions. In ``benchmarks/bench_preconditioner.py`` it took 2.0-4.8x
        fewer iterations with L-BFGS on unscaled features (raw digits, breast
        cancer and wine, an image-like problem, a sparse tf-idf problem with
        10 classes: 1.5-5.0x faster) and as many or fewer on standardised
        ones, where its extra work cost up to a quarter of a small fit's
        time (see :ref:`choosing`).
    learning_rate : float, default=0.1
        Constant step of ``solver="fixed"`` (ignored by the other solvers).
    momentum : float, default=0.0
        Constant momentum of ``solver="fixed"`` (ignored by the other solvers).
        Zero by default: Adam's direction already averages past gradients,
        and with a second momentum the default step oscillates.
    class_weight : dict or "balanced", default=None
        Weights of the classes, multiplied into the sample weights, as in
        LogisticRegression.
    random_state : int, RandomState instance or None, default=None
        Accepted for compatibility and unused: every solver here is
        deterministic (LogisticRegression's lbfgs, newton-cg and
        newton-cholesky solvers ignore it too).
    warm_start : bool, default=False
        Start from the previous fit's coefficients (from their float64
        values for float32 X, unless ``coef_`` or ``intercept_`` was changed
        since). As in LogisticRegression, they are reused whenever their
        shape fits, even if the class labels changed (the problem is convex:
        the starting point changes the path, not the optimum); a refit
        whose number of classes differs raises a ValueError. A previous
        ``sparsify()`` is undone by the refit.
    verbose : int, default=0
        When positive, print one line every ``max(1, 100 // verbose)``
        iterations (``verbose=1``: every 100th, ``verbose>=100``: every one)
        with the iteration number, the objective (the value ``loss_curve_``
        records), the largest absolute gradient entry, the learning and
        momentum rates chosen and the products with X so far (setup
        included), and a last line saying why the fit stopped.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients (one row for a binary problem), in the dtype of the
        training X (float32 or float64), as in LogisticRegression.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts; zeros if ``fit_intercept=False``. Same dtype as
        ``coef_``.
    n_iter_ : ndarray of shape (1,)
        Number of iterations run, as LogisticRegression reports it.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Feature names, when X has string column names.
    loss_ : float
        The final objective divided by ``C * sum_i s_i``: the weighted mean
        log-loss plus ``||W||^2 / (2 C sum_i s_i)``, recomputed from an exact
        product with X.
    loss_curve_ : list of float
        That objective after every iteration.
    loss_times_ : list of float
        Seconds elapsed since the first iteration began, after every
        iteration: the time at which each ``loss_curve_`` value was reached.
        The setup before the first iteration (the starting gradient and, for
        "gd" and "lbfgs", the preconditioner) and the final exact refresh of
        ``X W`` are not included.
    learning_rates_ : ndarray of shape (``n_iter_``, 1)
        The learning rate chosen on every iteration.
    momentum_rates_ : ndarray of shape (``n_iter_``, 1)
        The momentum rate chosen on every iteration (0 for "ls" and "lo").
    direction_ : str
        ``direction`` resolved: the direction the fit took ("auto" becomes
        "newton", "newton-cg" or "lbfgs").
    memory_ : int
        ``memory`` resolved: the number of curvature pairs the L-BFGS
        direction keeps (unused by the other directions).
    n_products_ : int
        Bottleneck products (``X @ M``, ``X.T @ R`` or one pass over X)
        performed by the fit: the sum of ``product_counts_``.
    product_counts_ : dict
        Those products by purpose: ``"iterations"``, exactly two per
        iteration; ``"setup"``, the starting gradient, the first estimate of
        the "gd" and "lbfgs" directions' preconditioner (two products when
        it is centred, one for the diagonal) and, for a warm start, the
        starting ``X W``; ``"refresh"``, the exact
        recomputations of the cached ``X W`` (every 50 iterations, when a
        step's rounding may cost the objective half its digits, and once at
        the end, so the fitted model carries no drift); ``"preconditioner"``,
        the products that re-estimate the preconditioner (two per estimate
        when it is centred; after 20
        iterations, then with a period that doubles each time the diagonal
        changed by less than 10%; "gd" and "lbfgs" only); ``"unused"``, the
        image of a direction that was not taken (it gave no decrease: the
        direction's memory is reset and the iteration retried once, or the
        fit ends).
    stop_reason_ : str
        Why the fit stopped, in words.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : The same objective with
        scikit-learn's solvers.

    Notes
    -----
    ``sparsify()`` and ``densify()`` convert ``coef_`` to a SciPy sparse
    matrix and back, as in LogisticRegression (both come from scikit-learn's
    ``SparseCoefMixin``); predictions are unchanged.

    Keyword arguments of LogisticRegression that have no counterpart here
    (``dual``, ``intercept_scaling``, ``n_jobs``) raise a ``TypeError`` at
    construction that says why; LogisticRegression's solver names
    (``solver="lbfgs"``, ``"saga"``...) fail parameter validation with the
    name of our equivalent: here ``solver`` chooses how the rates are found
    and ``direction`` the search direction.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_so import SOLogisticRegression
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), SOLogisticRegression()).fit(X, y)
    >>> round(clf.score(X, y), 3)
    0.988
    """

    _parameter_constraints = {
        "C": [Interval(Real, 0, None, closed="right")],
        "penalty": [
            StrOptions({"l1", "l2", "elasticnet"}),
            None,
            Hidden(StrOptions({"deprecated"})),
        ],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "random_state": ["random_state"],
        "preconditioner": [StrOptions({"diagonal", "centred"})],
        **LINEAR_SOLVER_PARAMETER_CONSTRAINTS,
    }

    _foreign_keywords = LOGISTIC_KEYWORDS
    _replaces = "LogisticRegression"

    @refuse_keywords
    def __init__(
        self,
        C=1.0,
        *,
        penalty="deprecated",
        l1_ratio=0.0,
        fit_intercept=True,
        solver="ls",
        direction="auto",
        max_iter=2000,
        tol=1e-4,
        memory="auto",
        memory_directions=1,
        preconditioner="centred",
        learning_rate=0.1,
        momentum=0.0,
        class_weight=None,
        random_state=None,
        warm_start=False,
        verbose=0,
    ):
        self.C = C
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.direction = direction
        self.max_iter = max_iter
        self.tol = tol
        self.memory = memory
        self.memory_directions = memory_directions
        self.preconditioner = preconditioner
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.class_weight = class_weight
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; CSR and CSC matrices are used without densifying,
            float32 data without conversion.
        y : array-like of shape (n_samples,)
            Target labels (at least two classes).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : SOLogisticRegression
            The fitted estimator.
        """
        C = self._penalty_strength()
        warm = self.warm_start and hasattr(self, "coef_")
        if ns.is_dask(X):
            # Always the dask path: validate_data would gather X.
            return self._fit_dask(X, y, sample_weight, C, warm)
        # With array_api_dispatch, a dense X of another array library is
        # trained in its namespace, on its device (see _namespace); y and the
        # weights follow X there.
        xp, device = ns.namespace_and_device(X)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=[xp.float64, xp.float32],
            # A warm start needs the features of the previous fit; checking
            # without resetting keeps the previous model intact if they differ.
            reset=not warm,
        )
        if xp is not np:
            return self._fit_array_api(X, y, sample_weight, C, xp, device)
        # scikit-learn's target check passes 1-d integer or boolean labels
        # whatever they hold, but for a warning when they have many classes:
        # it runs first for other labels and, for these, where it may warn.
        integer_labels = y.ndim == 1 and y.dtype.kind in "biu"
        if not integer_labels:
            check_classification_targets(y)
        # The classes and each sample's index among them in one pass, as
        # LabelEncoder.fit_transform finds them (y is already 1-d: without
        # its second input check).
        classes, y_index = _unique(y, return_inverse=True)
        if integer_labels and len(classes) > 2:
            check_classification_targets(y)
        if len(classes) < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, "
                f"but the data contains only one class: {classes[0]!r}."
            )
        # The callbacks score the intermediate models with the weights as given.
        sample_weight_given = sample_weight
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True, copy=True
        )
        if self.class_weight is not None:
            # "balanced" divides by each class's total weight; a class whose
            # weights are all zero is reported just below, so numpy's
            # division warning would only repeat it.
            with np.errstate(divide="ignore", invalid="ignore"):
                class_weight = compute_class_weight(
                    self.class_weight, classes=classes, y=y, sample_weight=sample_weight
                )
            _check_class_weight(class_weight, classes)
            sample_weight *= class_weight[y_index]
        total_weight = sample_weight.sum()
        if not total_weight > 0:
            raise ValueError("The sample weights (times class weights) sum to zero.")

        n_classes = len(classes)
        n_outputs = 1 if n_classes == 2 else n_classes
        if warm and self.coef_.shape[0] != n_outputs:
            # LogisticRegression raises too (its coef_init has the wrong
            # shape); a silent cold start would hide the mistake.
            raise ValueError(
                f"warm_start=True reuses the previous fit's coefficients, for "
                f"{len(self.classes_)} classes {self.classes_}, but y has "
                f"{n_classes} classes {classes}. Set warm_start=False to fit "
                "from scratch."
            )
        if n_classes == 2:
            loss, Y = BinaryLogLoss(), (y_index == 1).astype(np.float64)[:, None]
        else:
            loss, Y = MultinomialLogLoss(), np.eye(n_classes)[y_index]
        model = LinearModel(
            n_features=X.shape[1],
            n_outputs=n_outputs,
            loss=loss,
            y=Y,
            weights=sample_weight / total_weight,
            l2=1.0 / (C * total_weight),
            fit_intercept=self.fit_intercept,
        )
        return self._fit_model(model, X, y, sample_weight_given, classes, warm)

    def _fit_model(self, model, X, y, sample_weight_given, classes, warm):
        """Minimise ``model``'s objective and set the fitted attributes (numpy).

        Shared by numpy and dask X: the parameters are numpy arrays on the
        host in both. ``y`` and ``sample_weight_given`` are passed to the
        callbacks as given.
        """
        n_outputs = model.q
        model.centre_intercepts = self.preconditioner == "centred"
        theta0 = np.zeros(model.n_params)
        if warm:
            # As LogisticRegression: the coefficients are reused whenever
            # their shape fits, even for other class labels (a convex
            # problem: the start changes the path, not the optimum).
            coef, intercept = self.coef_, self.intercept_
            if sp.issparse(coef):  # after sparsify()
                coef = coef.toarray()
            full = getattr(self, "_full_precision", None)
            if full is not None and all(
                np.array_equal(kept.astype(given.dtype), given)
                for kept, given in zip(full, (coef, intercept), strict=True)
            ):
                # float32 coef_ is a rounding of the float64 optimum: restart
                # from the optimum itself (unless coef_ was changed since).
                coef, intercept = full
            W0, b0 = model.unpack(theta0)
            W0[:] = coef.T
            if b0 is not None:
                b0[:] = intercept

        def fitted_attributes(theta):
            W, b = model.unpack(theta)
            intercept = b.copy() if b is not None else np.zeros(n_outputs)
            if n_outputs > 1:
                # Softmax is unchanged by a shift common to every class's
                # intercept; report the symmetric one (intercepts summing to
                # zero), scikit-learn's convention. The penalty centres coef_.
                intercept -= intercept.mean()
            # In X's precision, as LogisticRegression does: float32 X gives
            # float32 coefficients, decision values and probabilities (the
            # optimisation itself runs in float64).
            return {
                "classes_": classes,
                "coef_": np.array(W.T, order="C", dtype=X.dtype),
                "intercept_": intercept.astype(X.dtype),
                # The float64 values, for a warm start (None when X is).
                "_full_precision": (
                    None if X.dtype == np.float64 else (W.T.copy(), intercept)
                ),
            }

        task = self._begin_fit_task(X, y, sample_weight_given)
        self.classes_ = classes
        self.direction_ = resolve_direction(
            self.direction, X.shape[0], X.shape[1], n_outputs, self.fit_intercept
        )
        result = self._run_optimizer(
            model,
            X,
            theta0,
            task=task,
            reconstruct=fitted_attributes,
            direction=self.direction_,
        )
        for name, value in fitted_attributes(result.theta).items():
            setattr(self, name, value)
        self.n_iter_ = np.array([result.n_iter], dtype=np.int32)
        task.end()
        return self

    def _penalty_strength(self):
        """``C`` after ``penalty`` and ``l1_ratio``, as LogisticRegression reads them.

        Raises a ValueError for any penalty but L2, and warns as
        LogisticRegression does when the deprecated ``penalty`` is set.
        """
        if self.l1_ratio != 0 or self.penalty in ("l1", "elasticnet"):
            given = (
                f"penalty={self.penalty!r}"
                if self.penalty in ("l1", "elasticnet")
                else f"l1_ratio={self.l1_ratio!r}"
            )
            raise ValueError(
                f"{type(self).__name__} supports only the L2 penalty "
                f"(l1_ratio=0, the default), got {given}. For an L1 or "
                "elastic-net penalty use LogisticRegression(solver='saga')."
            )
        if self.penalty == "deprecated":
            return self.C
        warnings.warn(
            "'penalty' was deprecated in LogisticRegression in scikit-learn 1.8 "
            "and will be removed in 1.10; SOLogisticRegression accepts it for "
            "compatibility only. To avoid this warning, leave 'penalty' unset: "
            "the penalty is L2 (l1_ratio=0), and C=np.inf instead of "
            "penalty=None gives no penalty.",
            FutureWarning,
            stacklevel=external_stacklevel(),
        )
        if self.penalty is not None:
            return self.C
        if self.C != 1.0:
            warnings.warn(
                "Setting penalty=None will ignore the C parameter (as in "
                "LogisticRegression): no penalty, C=np.inf.",
                UserWarning,
                stacklevel=external_stacklevel(),
            )
        return np.inf

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples, in the namespace and on the device of the fit.

        Returns
        -------
        proba : array of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        if not ns.is_dask(X):
            check_same_namespace(X, self, attribute="coef_", method="predict_proba")
        return super().predict_proba(X)

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples, in the namespace and on the device of the fit.

        Returns
        -------
        log_proba : array of shape (n_samples, n_classes)
            ``log(predict_proba(X))``.
        """
        if not ns.is_dask(X):
            check_same_namespace(X, self, attribute="coef_", method="predict_log_proba")
        return super().predict_log_proba(X)

    def _fit_dask(self, X, y, sample_weight, C, warm):
        """:meth:`fit` for a dask X, whose rows stay on the workers.

        The same model and objective as the numpy path (in float64); the
        targets and weights are dask arrays with X's row chunks, the
        coefficients numpy arrays on the client. X is never gathered: its
        checks are its metadata and one reduction (see ``_dask``).
        """
        import dask
        import dask.array as da

        from . import _dask

        X, labels, weights, classes = _dask.classification_inputs(
            self,
            X,
            y,
            sample_weight,
            reset=not warm,
            not_1d="y must be one-dimensional, got shape {shape}.",
        )
        if len(classes) < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, "
                f"but the data contains only one class: {classes[0]!r}."
            )
        n_classes = len(classes)
        y_index = _dask.encode_labels(labels, classes)
        if weights is None:
            weights = da.ones(X.shape[0], chunks=(X.chunks[0],))
        if self.class_weight is not None:
            if self.class_weight == "balanced":
                # scikit-learn's formula with the weighted class counts: one
                # number per class crosses.
                counts = ns.to_host(
                    da.bincount(y_index, weights=weights, minlength=n_classes)
                )
                with np.errstate(divide="ignore", invalid="ignore"):
                    class_weight = counts.sum() / (n_classes * counts)
            else:
                class_weight = compute_class_weight(
                    self.class_weight, classes=classes, y=classes
                )
            _check_class_weight(class_weight, classes)
            weights = weights * _dask.take(class_weight, y_index)
        if sample_weight is None and self.class_weight is None:
            # Unit weights: their sum is known (no round trip).
            total_weight = float(X.shape[0])
        else:
            total_weight = ns.to_float(da.sum(weights))
        if not total_weight > 0:
            raise ValueError("The sample weights (times class weights) sum to zero.")
        n_outputs = 1 if n_classes == 2 else n_classes
        if warm and self.coef_.shape[0] != n_outputs:
            raise ValueError(
                f"warm_start=True reuses the previous fit's coefficients, for "
                f"{len(self.classes_)} classes {self.classes_}, but y has "
                f"{n_classes} classes {classes}. Set warm_start=False to fit "
                "from scratch."
            )
        if n_classes == 2:
            loss = BinaryLogLoss()
            Y = (y_index == 1).astype(np.float64)[:, None]
        else:
            loss, Y = MultinomialLogLoss(), _dask.one_hot(y_index, n_classes)
        Y, weights = dask.persist(Y, weights / total_weight)
        model = DaskLinearModel(
            n_features=X.shape[1],
            n_outputs=n_outputs,
            loss=loss,
            y=Y,
            weights=weights,
            l2=1.0 / (C * total_weight),
            fit_intercept=self.fit_intercept,
        )
        return self._fit_model(model, X, y, sample_weight, classes, warm)

    def decision_function(self, X):
        """Confidence scores: the logits.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Samples. For a dask array the scores are a lazy dask array.

        Returns
        -------
        scores : array of shape (n_samples,) or (n_samples, n_classes)
            The logit of ``classes_[1]`` (binary) or of every class.
        """
        if not ns.is_dask(X):
            return super().decision_function(X)
        from . import _dask

        X = _dask.check_predict_X(self, X)
        coef = self.coef_.toarray() if sp.issparse(self.coef_) else self.coef_
        scores = _dask.linear_scores(X, coef, self.intercept_)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Samples. For a dask array the labels are a lazy dask array.

        Returns
        -------
        y_pred : array of shape (n_samples,)
            The most probable class of every sample.
        """
        if not ns.is_dask(X):
            return super().predict(X)
        from . import _dask

        scores = self.decision_function(X)
        if scores.ndim == 1:
            index = (scores > 0).astype(np.intp)
        else:
            index = scores.argmax(axis=1)
        return _dask.take(self.classes_, index)

    def _fit_array_api(self, X, y, sample_weight, C, xp, device):
        """:meth:`fit` for a dense X of another array library, on its device.

        The same model and objective as the numpy path, in X's dtype; the
        fitted ``coef_``, ``intercept_`` and ``classes_`` are arrays of X's
        namespace on X's device.
        """
        from sklearn.utils._array_api import move_to

        y = move_to(y, xp=xp, device=device)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        classes = encoder.classes_
        n_classes = classes.shape[0]
        if n_classes < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, "
                "but the data contains only one class."
            )
        y_index = encoder.transform(y)
        sample_weight_given = sample_weight
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True, copy=True
        )
        if self.class_weight is not None:
            class_weight = _device_class_weights(
                self.class_weight, classes, y, sample_weight
            )
            sample_weight *= xp.astype(xp.take(class_weight, y_index), X.dtype)
        total_weight = ns.to_float(xp.sum(sample_weight))
        if not total_weight > 0:
            raise ValueError("The sample weights (times class weights) sum to zero.")
        n_outputs = 1 if n_classes == 2 else n_classes
        if n_classes == 2:
            loss = BinaryLogLoss()
            Y = xp.astype(y_index == 1, X.dtype)[:, None]
        else:
            labels = xp.arange(n_classes, dtype=y_index.dtype, device=device)
            loss = MultinomialLogLoss()
            Y = xp.astype(y_index[:, None] == labels[None, :], X.dtype)
        model = LinearModel(
            n_features=X.shape[1],
            n_outputs=n_outputs,
            loss=loss,
            y=Y,
            weights=sample_weight / total_weight,
            l2=1.0 / (C * total_weight),
            fit_intercept=self.fit_intercept,
        )
        model.centre_intercepts = self.preconditioner == "centred"
        theta0 = xp.zeros(model.n_params, dtype=X.dtype, device=device)
        if (
            self.warm_start
            and hasattr(self, "coef_")
            and tuple(self.coef_.shape) == (n_outputs, X.shape[1])
            and ns.namespace(self.coef_) is xp
            and self.classes_.shape == classes.shape
            and ns.to_bool(xp.all(self.classes_ == classes))
        ):
            W0 = xp.reshape(xp.astype(self.coef_.T, X.dtype), (model.n_weights,))
            b0 = xp.astype(self.intercept_, X.dtype)
            theta0 = xp.concat([W0, b0]) if self.fit_intercept else W0

        def fitted_attributes(theta):
            W, b = model.unpack(theta)
            if b is None:
                intercept = xp.zeros(n_outputs, dtype=X.dtype, device=device)
            elif n_outputs > 1:
                # The symmetric intercepts, as on the numpy path.
                intercept = b - xp.mean(b)
            else:
                intercept = xp.asarray(b, copy=True)
            return {
                "classes_": classes,
                "coef_": xp.asarray(W.T, copy=True),
                "intercept_": intercept,
                "_full_precision": None,
            }

        task = self._begin_fit_task(X, y, sample_weight_given)
        self.classes_ = classes
        # "auto" chooses by shape as on numpy.
        self.direction_ = resolve_direction(
            self.direction, X.shape[0], X.shape[1], n_outputs, self.fit_intercept
        )
        result = self._run_optimizer(
            model,
            X,
            theta0,
            task=task,
            reconstruct=fitted_attributes,
            direction=self.direction_,
        )
        for name, value in fitted_attributes(result.theta).items():
            setattr(self, name, value)
        # scikit-learn's convention: every fitted array in X's namespace (the
        # per-iteration records cross once, at the end of the fit).
        self.n_iter_ = xp.asarray([result.n_iter], dtype=xp.int32, device=device)
        for name in ("learning_rates_", "momentum_rates_"):
            setattr(self, name, xp.asarray(getattr(self, name), device=device))
        task.end()
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
