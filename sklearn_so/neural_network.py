"""Two-layer networks trained with per-layer subspace optimisation."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._array_api import _convert_to_numpy, check_same_namespace, move_to
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from . import _namespace as ns
from ._activations import ACTIVATIONS
from ._base import (
    SOLVER_PARAMETER_CONSTRAINTS,
    LogitProbabilityMixin,
    SubspaceOptimizerMixin,
)
from ._compat import (
    MLP_KEYWORDS,
    MLP_REGRESSOR_KEYWORDS,
    ForeignValuesMixin,
    external_stacklevel,
    refuse_keywords,
)
from ._engine import make_engine
from ._losses import (
    BinaryLogLoss,
    HalfSquaredLoss,
    MultilabelLogLoss,
    MultinomialLogLoss,
)
from ._models import TwoLayerNetwork

# A stuck fit (see _warn_if_degenerate): activations whose slope is below
# SATURATED_SLOPE times the activation's largest slope count as saturated
# (for relu: dead); the fit is flagged when at least SATURATED_FRACTION of
# them are and every output varies over the training samples by at most
# CONSTANT_OUTPUT of its size while the targets vary. The identity has no
# saturation.
SATURATING = {"tanh": 1.0, "logistic": 0.25, "relu": 1.0}
SATURATED_SLOPE = 1e-4
SATURATED_FRACTION = 0.99
CONSTANT_OUTPUT = 1e-3

_SHARED_DOC = """
    The model is ``X -> act(X W1 + b1) W2 + b2`` and the objective is exactly
    that of scikit-learn's MLP with ``hidden_layer_sizes=(hidden_units,)`` and
    the same ``alpha``: the (sample-weighted) mean loss plus
    ``alpha / (2 sum_i s_i) * (||W1||^2 + ||W2||^2)``, biases unpenalised.

    Every iteration costs two products with X: ``X.T R`` for the first layer's
    gradient and ``X D1`` for the image of its new direction. Every trial
    point of the rate search reuses the cached ``X W1`` and those images, so it
    costs O(n_samples * hidden_units * n_outputs). The layers are the blocks:
    ``solver="so"`` chooses a learning rate and a momentum rate for each
    layer (4 rates, biases moving with their layer, plus
    ``memory_directions`` older moves per layer).

    The inner problem is non-convex: each iteration takes one damped
    Gauss-Newton step on it (a Newton step on the Gauss-Newton model, with
    backtracking), from the previous rates, never accepting a point worse
    than not moving.
    Safeguard: a layer's parameters move by at most their own norm (and at
    least 1) per iteration, so no rate can run away with one layer.

    The network is *SO-friendly* while the outputs are fewer than the inputs:
    a trial point costs O(n r c), well below a product's O(n d r). When
    ``n_outputs >= n_features`` a trial costs as much as a product; the
    estimator still solves the same inner problem (results are unchanged)
    but each iteration is then several products' worth of work, and
    ``solver="ls"`` (values only) is the economical choice.

    Supports scikit-learn's callbacks (``set_callbacks`` with, for example,
    :class:`sklearn.callback.ProgressBar` or
    :class:`sklearn.callback.ScoringMonitor`) for every solver and
    direction: a fit is one task with one subtask per iteration, whose
    ``fitted_estimator`` predicts as if the fit had stopped there. A callback
    whose ``on_fit_task_end`` returns True stops the fit after that
    iteration, without a ConvergenceWarning; with early stopping, either can
    stop the fit.

    MLP's keyword arguments that have no counterpart here
    (``hidden_layer_sizes``, ``learning_rate_init``, ``batch_size``,
    ``shuffle``, ``beta_1``, ``beta_2``, ``epsilon``, ``power_t``,
    ``nesterovs_momentum``, ``max_fun``, and the regressor's ``loss``) raise
    a ``TypeError`` at construction that names our equivalent: the rates are
    chosen on every iteration, every iteration uses all the samples, and the
    width of the one hidden layer is ``hidden_units`` (which also takes MLP's
    one-element tuple, so ``MLPClassifier((50,))`` becomes
    ``SOTwoLayerClassifier((50,))``). ``hidden_layer_sizes`` is refused
    rather than accepted as a second name for ``hidden_units``: scikit-learn
    estimators store every constructor argument as a parameter, so the two
    would both appear in ``get_params`` and could disagree. MLP's solver
    names (``solver="adam"``...) and learning-rate schedules
    (``learning_rate="adaptive"``...) fail parameter validation with the
    name of our equivalent (``direction="adam"``...).
"""


def _glorot_uniform(rng, fan_in, fan_out, activation):
    """Initial weights and biases as scikit-learn's MLP draws them."""
    factor = 2.0 if activation == "logistic" else 6.0
    bound = np.sqrt(factor / (fan_in + fan_out))
    coef = rng.uniform(-bound, bound, (fan_in, fan_out))
    intercept = rng.uniform(-bound, bound, fan_out)
    return coef, intercept


class _EarlyStopping:
    """Scores the held-out set after every iteration; keeps the best network.

    The validation pre-activation ``X_val W1`` needs one product with the
    (smaller) validation matrix per iteration; those are counted apart from
    the training products.
    """

    def __init__(self, model, X_val, score, n_iter_no_change, tol):
        self.model = model
        self.engine = make_engine(X_val)
        self.score = score
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.scores = []
        self.best_score = -np.inf
        self.best_theta = None
        self._no_improvement = 0
        self.stopped = False
        self.reason = (
            f"early stopping: the validation score did not improve by more than "
            f"tol={tol:g} for {n_iter_no_change} iterations"
        )

    def __call__(self, iteration, theta, value):
        W1, b1 = self.model.first_layer(theta)
        Z_val = self.engine.pre_activation(W1, b1, "validation")
        _, out = self.model.output(theta, Z_val)
        score = ns.to_float(self.score(out))
        self.scores.append(score)
        improved = np.isfinite(score) and score >= self.best_score + self.tol
        self._no_improvement = 0 if improved else self._no_improvement + 1
        if score > self.best_score:
            self.best_score, self.best_theta = score, theta
        self.stopped = self._no_improvement > self.n_iter_no_change
        return self.stopped

    def choose_final(self, theta):
        return theta if self.best_theta is None else self.best_theta


def _warn_if_degenerate(name, model, result):
    """Warn when the fitted network is saturated into a constant predictor.

    On unscaled X the first layer's pre-activations can sit far outside the
    activation's range for every sample: the gradient vanishes, the gradient
    criterion is met, and the network predicts the same output for every
    sample. Both conditions are checked on the training data (one pass over
    the n x r activations), so a constant predictor that unsaturated units
    would have learned (uninformative features) is not flagged.
    """
    Z = result.pre_activation
    if model.activation not in SATURATING or Z is None or not _size(Z):
        return
    xp = model.xp
    A, out = model.output(result.theta, Z)
    slope = model.act_prime(Z, A)
    # Four scalars, in one crossing to the host.
    saturated, spread, largest, target_spread = ns.to_host(
        xp.stack(
            [
                xp.mean(
                    xp.astype(
                        slope < SATURATED_SLOPE * SATURATING[model.activation], Z.dtype
                    )
                ),
                xp.max(_ptp(out)),
                xp.max(xp.abs(out)),
                xp.max(_ptp(model.y)),
            ]
        )
    )
    if not target_spread:
        return  # constant targets: a constant output is the right answer
    if saturated >= SATURATED_FRACTION and spread <= CONSTANT_OUTPUT * max(
        1.0, largest
    ):
        warnings.warn(
            f"{name}: {saturated:.0%} of the hidden activations are saturated "
            f"({model.activation} slope below {SATURATED_SLOPE:g} of its "
            "maximum; for relu, dead units) and the network predicts nearly "
            "the same output for every training sample; the fit is stuck, "
            "not converged. Scale X first (e.g. make_pipeline(StandardScaler(), "
            "...)).",
            ConvergenceWarning,
            stacklevel=external_stacklevel(),
        )


def _size(array):
    """Number of entries of an array of any namespace."""
    return int(np.prod(array.shape))


def _ptp(array):
    """Range of every column (``np.ptp(array, axis=0)``) in the array's namespace."""
    xp = ns.namespace(array)
    return xp.max(array, axis=0) - xp.min(array, axis=0)


def _as_int(array):
    """A boolean or float array as int64, in its namespace (numpy: ``int``)."""
    if isinstance(array, np.ndarray):
        return array.astype(int)
    xp = ns.namespace(array)
    return xp.astype(array, xp.int64)


def _equal_labels(a, b):
    """Whether two small label arrays, of any namespaces, are equal."""
    a, b = (
        x if isinstance(x, np.ndarray) else _convert_to_numpy(x, ns.namespace(x))
        for x in (a, b)
    )
    return np.array_equal(a, b)


def _check_validation_split(n_samples, fraction, stratify):
    """Raise a ValueError naming ``validation_fraction`` if the split fails.

    Checked before ``train_test_split`` so that the message speaks of early
    stopping: it holds out ``ceil(fraction * n_samples)`` samples, and a
    stratified split (the classifier's) needs at least as many samples as
    classes on each side and two samples of every class.
    """
    n_val = int(np.ceil(fraction * n_samples))
    n_train = n_samples - n_val
    problems = []
    if n_val < 2:
        problems.append(f"it holds out {n_val}, and early stopping needs 2")
    if stratify is not None:
        if isinstance(stratify, np.ndarray):
            classes, counts = np.unique(stratify, return_counts=True)
        else:
            # The labels stay on the device; the counts (one per class) and
            # the classes, for the message, cross.
            xp = ns.namespace(stratify)
            classes, counts = xp.unique_counts(stratify)
            classes, counts = _convert_to_numpy(classes, xp), ns.to_host(counts)
        if min(n_val, n_train) < len(classes):
            problems.append(
                f"the stratified split needs at least {len(classes)} samples "
                f"(the number of classes) on each side, not {n_train} and {n_val}"
            )
        if counts.min() < 2:
            problems.append(
                "the stratified split needs two samples of every class; class "
                f"{classes[np.argmin(counts)].item()!r} has one"
            )
    if problems:
        raise ValueError(
            f"early_stopping=True with validation_fraction={fraction:g} of "
            f"{n_samples} samples: {'; '.join(problems)}. Change "
            "validation_fraction or set early_stopping=False."
        )


class _BaseTwoLayer(SubspaceOptimizerMixin, ForeignValuesMixin, BaseEstimator):
    """Fitting logic shared by the classifier and the regressor."""

    _foreign_keywords = MLP_KEYWORDS
    _replaces = "MLPClassifier"

    _parameter_constraints = {
        # A one-element tuple or list too: MLP's hidden_layer_sizes=(r,),
        # often passed positionally, means hidden_units=r.
        "hidden_units": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        **SOLVER_PARAMETER_CONSTRAINTS,
    }

    @refuse_keywords
    def __init__(
        self,
        hidden_units=100,
        *,
        activation="tanh",
        alpha=1e-4,
        solver="ls",
        direction="lbfgs",
        max_iter=500,
        tol=1e-5,
        memory=10,
        memory_directions=1,
        learning_rate=0.1,
        momentum=0.0,
        random_state=None,
        warm_start=False,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        verbose=0,
    ):
        self.hidden_units = hidden_units
        self.activation = activation
        self.alpha = alpha
        self.solver = solver
        self.direction = direction
        self.max_iter = max_iter
        self.tol = tol
        self.memory = memory
        self.memory_directions = memory_directions
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.random_state = random_state
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.verbose = verbose

    def _n_hidden(self):
        """``hidden_units`` as an int (it may be given as a one-element tuple)."""
        units = self.hidden_units
        if isinstance(units, (tuple, list)):
            if len(units) != 1 or not (
                isinstance(units[0], Integral) and not isinstance(units[0], bool)
            ):
                raise ValueError(
                    f"hidden_units={units!r}: the network has exactly one hidden "
                    "layer; give its width as an int, or as a one-element tuple "
                    "like MLP's hidden_layer_sizes=(100,)."
                )
            units = units[0]
            if units < 1:
                raise ValueError(f"hidden_units must be at least 1, got {units}.")
        return int(units)

    def _fit_network(
        self, X, y, Y, sample_weight, loss, stratify, fitted, warm, score=None
    ):
        """Fit on validated X and encoded targets Y of shape (n, c).

        ``y`` is the target as given (for the callbacks). ``fitted`` holds
        target-dependent attributes (``classes_``...) set only once the fit
        has succeeded, so a failed refit leaves the previous model intact
        (the callbacks' intermediate models carry them instead); ``warm``
        tells whether to start from the previous weights (``warm_start``
        and a previous fit, whose targets the caller checked). ``score``
        scores the validation outputs for early stopping (default
        ``self._validation_score``).
        """
        sample_weight_given = sample_weight
        rng = check_random_state(self.random_state)
        lazy = ns.is_dask(X)
        # numpy fits run in float64 whatever X's dtype; another namespace's
        # (array_api_dispatch) in X's dtype, on X's device. A dask X's
        # parameters are numpy too (its rows are dask arrays, see _dask).
        xp = ns.namespace(X) if not (sp.issparse(X) or lazy) else np
        if lazy:
            import dask
            import dask.array as da

            if self.early_stopping:
                raise ValueError(
                    "early_stopping=True is not supported yet for a dask X; "
                    "hold out a validation set and score it instead."
                )
            if sample_weight is None:
                sample_weight = da.ones(X.shape[0], chunks=(X.chunks[0],))
            Y, sample_weight = dask.persist(Y, sample_weight)
        else:
            sample_weight = _check_sample_weight(
                sample_weight,
                X,
                dtype=np.float64 if xp is np else X.dtype,
                ensure_non_negative=True,
            )
        n_hidden = self._n_hidden()
        n_features, n_outputs = X.shape[1], Y.shape[1]
        # Draw the initial weights before the validation split, as MLP does,
        # so that the same random_state gives the same starting network.
        theta0 = self._initial_parameters(
            n_features, n_hidden, n_outputs, rng, warm, like=X
        )
        validation = None
        X_given = X
        if self.early_stopping:
            # The labels as given group the samples as ``stratify`` does and
            # name the classes as the user knows them.
            labels = None if stratify is None else y
            _check_validation_split(X.shape[0], self.validation_fraction, labels)
            X, X_val, Y, Y_val, sample_weight, weight_val = train_test_split(
                X,
                Y,
                sample_weight,
                test_size=self.validation_fraction,
                random_state=rng,
                stratify=stratify,
            )
            validation = (X_val, Y_val, weight_val)
        total_weight = ns.to_float(xp.sum(sample_weight))
        if not total_weight > 0:
            raise ValueError("The sample weights sum to zero.")
        normalised = sample_weight / total_weight
        if lazy:
            (normalised,) = dask.persist(normalised)
        model = TwoLayerNetwork(
            n_features,
            n_hidden,
            n_outputs,
            self.activation,
            loss,
            Y,
            normalised,
            self.alpha / total_weight,
        )
        monitor = None
        if validation is not None:
            X_val, Y_val, weight_val = validation
            score = self._validation_score if score is None else score
            monitor = _EarlyStopping(
                model,
                X_val,
                lambda out: score(out, Y_val, weight_val),
                self.n_iter_no_change,
                self.tol,
            )

        def cast(array):
            return array.astype(X.dtype, copy=False)

        def fitted_attributes(theta):
            if xp is not np:
                # Another namespace: the fit ran in X's dtype, on X's device.
                layers = [xp.asarray(part, copy=True) for part in model.unpack(theta)]
                return {
                    **fitted,
                    "coefs_": [layers[0], layers[2]],
                    "intercepts_": [layers[1], layers[3]],
                    "n_layers_": 3,
                    "n_outputs_": n_outputs,
                    "_full_precision": None,
                }
            layers = [np.array(part) for part in model.unpack(theta)]
            return {
                **fitted,
                # In X's precision, as MLP's stochastic solvers keep it (the
                # optimisation itself runs in float64): float32 X gives
                # float32 weights, outputs and probabilities.
                "coefs_": [cast(layers[0]), cast(layers[2])],
                "intercepts_": [cast(layers[1]), cast(layers[3])],
                "n_layers_": 3,
                "n_outputs_": n_outputs,
                # The float64 values, for a warm start (None when X is).
                "_full_precision": None if X.dtype == np.float64 else layers,
            }

        task = self._begin_fit_task(X_given, y, sample_weight_given)
        result = self._run_optimizer(
            model, X, theta0, monitor, task=task, reconstruct=fitted_attributes
        )
        for name, value in fitted_attributes(result.theta).items():
            setattr(self, name, value)
        self.n_iter_ = result.n_iter
        if xp is not np:
            # scikit-learn's convention: fitted arrays in X's namespace (the
            # per-iteration records cross once, at the end of the fit).
            device = ns.device(X)
            for name in ("learning_rates_", "momentum_rates_"):
                setattr(self, name, xp.asarray(getattr(self, name), device=device))
        # Each iteration uses every training sample, as an epoch of MLP's
        # stochastic solvers, whose t_ counts the samples seen.
        self.t_ = result.n_iter * X.shape[0]
        _warn_if_degenerate(type(self).__name__, model, result)
        if monitor is not None:
            if not monitor.scores:
                # No iteration ran (the start met the gradient criterion,
                # max_iter=0, or the first step failed): the returned network
                # is the starting one, scored so the attributes describe it.
                monitor(0, result.theta, result.value)
            self.validation_scores_ = monitor.scores
            self.best_validation_score_ = monitor.best_score
            self.product_counts_["validation"] = monitor.engine.n_products
            # As MLP: with early stopping the validation score is what counts.
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            finite = [value for value in self.loss_curve_ if np.isfinite(value)]
            self.best_loss_ = min([*finite, self.loss_])
        task.end()
        return self

    def _initial_parameters(self, n_features, n_hidden, n_outputs, rng, warm, like):
        """Flat parameters in the model's layout ``[W1, b1, W2, b2]``.

        In the namespace, on the device and in the dtype of the training
        matrix ``like`` for another namespace than numpy (the Glorot draw
        crosses from the host once); float64 numpy otherwise.
        """
        if not warm:
            W1, b1 = _glorot_uniform(rng, n_features, n_hidden, self.activation)
            W2, b2 = _glorot_uniform(rng, n_hidden, n_outputs, self.activation)
            theta0 = np.concatenate([W1.ravel(), b1, W2.ravel(), b2])
            if sp.issparse(like) or ns.is_dask(like):
                return theta0
            return ns.from_host(theta0, like)
        shapes = [(n_features, n_hidden), (n_hidden, n_outputs)]
        previous = [tuple(c.shape) for c in self.coefs_]
        if previous != shapes:
            raise ValueError(
                f"warm_start=True reuses the previous fit's weights, of shapes "
                f"{previous}, but this fit needs {shapes} ({n_features} features, "
                f"hidden_units={n_hidden}, {n_outputs} outputs). Set "
                "warm_start=False to fit from scratch."
            )
        layers = [self.coefs_[0], self.intercepts_[0]]
        layers += [self.coefs_[1], self.intercepts_[1]]
        xp = np if sp.issparse(like) or ns.is_dask(like) else ns.namespace(like)
        if any(ns.namespace(part) is not xp for part in layers):
            # The previous fit ran in another namespace or on another device.
            layers = move_to(*layers, xp=xp, device=ns.device(like))
        if xp is not np:
            flat = [xp.reshape(xp.astype(part, like.dtype), (-1,)) for part in layers]
            return xp.concat(flat)
        full = getattr(self, "_full_precision", None)
        if full is not None and all(
            np.array_equal(kept.astype(given.dtype), given)
            for kept, given in zip(full, layers, strict=True)
        ):
            # float32 weights are a rounding of the float64 ones the fit
            # reached: restart from those (unless the weights were changed).
            layers = full
        return np.concatenate([np.ravel(part) for part in layers]).astype(np.float64)

    @property
    def _first_weights(self):
        """``coefs_[0]``: predictions need its namespace and device."""
        return self.coefs_[0]

    def _raw_output(self, X, method="predict"):
        """The network's raw output (logits or predictions) for X."""
        check_is_fitted(self)
        act = ACTIVATIONS[self.activation][0]
        (W1, W2), (b1, b2) = self.coefs_, self.intercepts_
        if ns.is_dask(X):
            # Lazy outputs with X's row chunks (the weights are numpy).
            from . import _dask

            X = _dask.check_predict_X(self, X)
            dtype = np.result_type(X.dtype, W1.dtype)
            hidden = _dask.linear_scores(X, W1.T, b1).astype(dtype)
            return act(hidden) @ W2 + b2
        xp, _ = ns.namespace_and_device(X)
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=[xp.float64, xp.float32],
            reset=False,
        )
        check_same_namespace(X, self, attribute="_first_weights", method=method)
        if xp is not np:
            dtype = xp.result_type(X.dtype, W1.dtype)
            hidden = xp.astype(X @ xp.astype(W1, X.dtype), dtype)
            hidden = hidden + xp.astype(b1, dtype)
            return act(hidden) @ xp.astype(W2, dtype) + xp.astype(b2, dtype)
        # The product in X's precision (no float64 copy of float32 X), the
        # rest in the wider of X's and the weights' (as MLP: float32 X and
        # weights give float32 outputs).
        dtype = np.result_type(X.dtype, W1.dtype)
        hidden = np.asarray(X @ W1.astype(X.dtype, copy=False), dtype=dtype) + b1
        return act(hidden) @ W2 + b2

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class SOTwoLayerClassifier(LogitProbabilityMixin, ClassifierMixin, _BaseTwoLayer):
    __doc__ = (
        """Two-layer network classifier with per-layer rates chosen exactly.
"""
        + _SHARED_DOC
        + """
    Binary problems use one logistic output, multiclass ones a softmax over
    ``n_classes`` outputs, as MLPClassifier does. A label indicator matrix
    (multilabel) gets one independent logistic output per label, and the
    loss is the sum over the labels of their binary log-losses, averaged
    over the samples: MLPClassifier's objective for multilabel targets;
    ``predict`` then returns the indicator matrix and ``predict_proba`` each
    label's probability.

    A target with a single class is fitted as MLPClassifier fits it (one
    logistic output trained towards "another class", which gets a vanishing
    probability) and that class is always predicted. ``predict_proba`` then
    returns one column of ones, matching ``classes_``; MLPClassifier returns
    two columns there (``1 - p`` and ``p``) for its one class.
    (SOLogisticRegression raises a ValueError for one class, as
    LogisticRegression does.) Standardise X first (e.g.
    ``make_pipeline(StandardScaler(), SOTwoLayerClassifier())``): on raw
    features the hidden units can saturate and the fit stall, which ends
    with a ConvergenceWarning saying so.

    Parameters
    ----------
    hidden_units : int or tuple of one int, default=100
        Width r of the hidden layer; ``(r,)`` (MLP's ``hidden_layer_sizes``
        for one hidden layer) means the same. Longer tuples raise a
        ValueError: there is one hidden layer.
    activation : {"tanh", "logistic", "relu", "identity"}, default="tanh"
        Hidden activation.
    alpha : float, default=1e-4
        L2 penalty, with MLPClassifier's scaling.
    solver : {"ls", "lo", "ps", "so", "fixed"}, default="ls"
        Rates per iteration: per-layer learning and momentum rates ("so"),
        shared ones ("ps"), one learning rate minimising the objective along
        the direction ("lo"; like every inner problem of a network, by one
        damped Gauss-Newton step per iteration, not exactly), Armijo
        backtracking ("ls"), or the constant ``learning_rate`` and
        ``momentum`` ("fixed").

        Why "ls" by default: in ``benchmarks/bench_two_layer.py`` (README)
        "ls" with L-BFGS reached three of the six targets (the objective of
        MLP's lbfgs and that of 400 full-batch Adam epochs, on three
        datasets) first, and was within 4%, 9% and 21% of the first on the
        other three. "so" needs fewer iterations (11 against 15, 22 against
        29, 235 against 413), but an iteration costs more (1.47x one of
        "ls" on the 20,000 x 500 classification set): it was ahead of "ls"
        on the regression set only.
    direction : {"lbfgs", "gd", "adam"}, default="lbfgs"
        Search direction: L-BFGS, minus the gradient, or Adam's direction.
    max_iter : int, default=500
        Maximum number of iterations. ``0`` returns the starting network
        (Glorot weights, or the previous fit's with ``warm_start``) with a
        ConvergenceWarning (MLP requires at least 1).
    tol : float, default=1e-5
        Stop when the largest absolute entry of the objective's gradient is at
        most ``tol``; also the improvement early stopping asks for.
    memory : int or "auto", default=10
        L-BFGS curvature pairs; "auto" as in
        :class:`~sklearn_so.SOLogisticRegression` (up to 100). 10 by default:
        with the network's many parameters each pair costs more, and in
        ``benchmarks/bench_memory.py`` 50 or 100 pairs made 200 iterations
        8-35% slower for an objective lower by 1% (digits) or 1.85-2.70x
        (a regression): a gain on one problem of two.
    memory_directions : int, default=1
        Older moves per layer added to the subspace by ``solver="so"``.
    learning_rate, momentum : float, default=0.1, 0.0
        Constant rates of ``solver="fixed"``; ignored otherwise. The default
        (no momentum: Adam's direction already averages past gradients)
        trains all three directions on small standardised problems; a fixed
        step always needs tuning to the data, which is what the other solvers
        avoid.
    random_state : int, RandomState instance or None, default=None
        Seeds the Glorot initialisation (drawn as MLPClassifier draws it) and
        the validation split.
    warm_start : bool, default=False
        Start from the previous fit's weights (from their float64 values
        after a float32 fit, unless the weights were changed since). A refit
        whose weights would have other shapes (other features, outputs or
        ``hidden_units``) raises a ValueError and keeps the previous model,
        as does, in the classifier, one with another set of classes (as in
        MLPClassifier).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified, except for
        multilabel targets, as in MLP) and stop when its accuracy (for
        multilabel targets the subset accuracy, as MLP's) has not improved
        by ``tol`` for ``n_iter_no_change`` iterations; the best-scoring
        network is kept.
    validation_fraction : float, default=0.1
        Share of the data held out for early stopping, in [0, 1) as in MLP.
        With ``early_stopping=True`` it must hold out at least two samples;
        the classifier's split is stratified, which needs at least as many
        samples as classes on each side and two samples of every class.
    n_iter_no_change : int or np.inf, default=10
        Patience of early stopping.
    verbose : int, default=0
        When positive, print one line every ``max(1, 100 // verbose)``
        iterations (``verbose=1``: every 100th, ``verbose>=100``: every one)
        with the iteration number, the objective (the value ``loss_curve_``
        records), the largest absolute gradient entry, the learning and
        momentum rates chosen for each layer and the products with the
        training X so far (setup included), and a last line saying why the
        fit stopped.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,) or (n_labels,)
        Class labels; for multilabel targets ``0 .. n_labels - 1``, as in
        MLPClassifier.
    coefs_ : list of two ndarrays
        ``W1`` of shape (n_features, hidden_units) and ``W2`` of shape
        (hidden_units, ``n_outputs_``), in the dtype of the training X
        (float32 or float64), as MLP's stochastic solvers keep it; the
        optimisation itself runs in float64. Outputs and probabilities for
        float32 X are float32 too.
    intercepts_ : list of two ndarrays
        ``b1`` and ``b2``, in the same dtype.
    n_outputs_ : int
        1 for binary problems (and a single class), n_classes for
        multiclass ones, n_labels for multilabel ones.
    out_activation_ : {"logistic", "softmax"}
        Output function, as MLPClassifier names it.
    n_layers_ : int
        3 (input, hidden, output).
    loss_ : float
        The final objective (MLPClassifier's loss plus its penalty),
        recomputed from an exact product with X.
    loss_curve_ : list of float
        The objective after every iteration.
    loss_times_ : list of float
        Seconds elapsed since the first iteration began, after every
        iteration: the time at which each ``loss_curve_`` value was reached.
        The setup before the first iteration (the starting gradient and
        pre-activation) and the final exact refresh of ``X W1`` are not
        included.
    n_iter_ : int
        Iterations run.
    best_loss_ : float or None
        The lowest objective reached: the smallest finite value of
        ``loss_curve_`` and ``loss_`` (every solver but "fixed" decreases
        the objective monotonically, so it is ``loss_`` up to rounding).
        None with early stopping, as in MLP, whose ``best_validation_score_``
        counts instead.
    t_ : int
        Training samples seen by the solver: ``n_iter_`` times the number of
        training samples (without the validation set), since every iteration
        uses all of them -- MLP's ``t_`` for its stochastic solvers, with an
        iteration as an epoch (MLP's lbfgs leaves it at 0). It restarts with
        every fit, as ``n_iter_`` does.
    learning_rates_, momentum_rates_ : ndarray of shape (``n_iter_``, 2)
        The rates chosen on every iteration for each layer.
    memory_ : int
        ``memory`` resolved: the number of curvature pairs the L-BFGS
        direction keeps (unused by the other directions).
    n_products_ : int
        Products with the training X (sum of ``product_counts_`` without
        ``"validation"``).
    product_counts_ : dict
        Products by purpose: ``"iterations"`` (two per iteration),
        ``"setup"`` (starting gradient and pre-activation), ``"refresh"``
        (exact recomputations of ``X W1``: every 50 iterations, when a
        step's rounding may cost the objective half its digits, and at the
        end), ``"unused"`` (images of directions not taken) and, with early
        stopping, ``"validation"`` (with the held-out matrix, not X).
    validation_scores_ : list of float or None
        Held-out accuracy after every iteration (early stopping only). A fit
        that ran no iteration (the start met the gradient criterion, or
        ``max_iter=0``) holds one score, the starting network's.
    best_validation_score_ : float or None
        The best of them.
    stop_reason_ : str
        Why the fit stopped.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Feature names, when X has string column names.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The same objective with
        scikit-learn's solvers.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_so import SOTwoLayerClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SOTwoLayerClassifier(hidden_units=10, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.95
    True
    """
    )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels (binary or multiclass; a single class is accepted,
            see the class docstring), or a label indicator matrix
            (multilabel: one independent logistic output per label).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        self : SOTwoLayerClassifier
            The fitted estimator.
        """
        warm = self.warm_start and hasattr(self, "coefs_")
        if ns.is_dask(X):
            # Always the dask path: validate_data would gather X.
            return self._fit_dask(X, y, sample_weight, warm)
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
            multi_output=True,
            # A warm start needs the features of the previous fit; checking
            # without resetting keeps the previous model intact if they differ.
            reset=not warm,
        )
        if xp is not np:
            y = move_to(y, xp=xp, device=device)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)  # as MLPClassifier
        target_type = type_of_target(y, input_name="y")
        if target_type != "binary":
            # It refuses what is no classification target, and warns when
            # the classes look like a regression target (never binary).
            check_classification_targets(y)
        stratify = None
        if target_type == "multilabel-indicator":
            # As MLPClassifier: one logistic output per label, the labels
            # numbered 0 .. n_labels - 1, no stratified validation split.
            if xp is np:
                Y = (y.toarray() if sp.issparse(y) else np.asarray(y)).astype(
                    np.float64
                )
                classes = np.arange(Y.shape[1])
            else:
                Y = xp.astype(y, X.dtype)
                classes = xp.arange(Y.shape[1], device=device)
            loss, out_activation = MultilabelLogLoss(), "logistic"
        elif target_type in ("binary", "multiclass"):
            encoder = LabelEncoder()
            stratify = encoder.fit_transform(y)
            classes = encoder.classes_
            n_classes = classes.shape[0]
            if n_classes <= 2:
                # One class: MLPClassifier's encoding too, every target 0 (the
                # network learns to give "another class" a vanishing
                # probability) and the one class always predicted.
                loss, out_activation = BinaryLogLoss(), "logistic"
                if xp is np:
                    Y = stratify[:, None].astype(np.float64)
                else:
                    Y = xp.astype(stratify[:, None], X.dtype)
            else:
                loss, out_activation = MultinomialLogLoss(), "softmax"
                if xp is np:
                    Y = np.eye(n_classes)[stratify]
                else:
                    labels = xp.arange(n_classes, dtype=stratify.dtype, device=device)
                    Y = xp.astype(stratify[:, None] == labels[None, :], X.dtype)
        else:
            raise ValueError(
                "SOTwoLayerClassifier supports binary, multiclass and "
                f"multilabel-indicator targets, got {target_type!r}."
            )
        if warm and (
            not _equal_labels(self.classes_, classes)
            or (self._y_type == "multilabel-indicator")
            != (target_type == "multilabel-indicator")
        ):
            # MLPClassifier raises too; a silent cold start would hide it.
            raise ValueError(
                "warm_start can only be used where `y` has the same classes "
                "(and is multilabel or not, as) in the previous call to fit. "
                f"Previously got {self.classes_} ({self._y_type}), `y` has "
                f"{classes} ({target_type}). Set warm_start=False to fit from "
                "scratch."
            )
        multilabel = target_type == "multilabel-indicator"
        return self._fit_network(
            X,
            y,
            Y,
            sample_weight,
            loss,
            stratify=stratify,
            fitted={
                "classes_": classes,
                "out_activation_": out_activation,
                "_y_type": target_type,
            },
            warm=warm,
            score=self._multilabel_score if multilabel else None,
        )

    def _fit_dask(self, X, y, sample_weight, warm):
        """:meth:`fit` for a dask X (binary and multiclass targets).

        The targets and weights become dask arrays with X's row chunks; X is
        checked by its metadata and one reduction (see ``_dask``).
        """
        from . import _dask

        X, labels, weights, classes = _dask.classification_inputs(
            self,
            X,
            y,
            sample_weight,
            reset=not warm,
            not_1d=(
                "A dask X is supported with binary and multiclass targets; "
                "multilabel y is not supported yet."
            ),
        )
        target_type = "binary" if len(classes) <= 2 else "multiclass"
        index = _dask.encode_labels(labels, classes)
        if len(classes) <= 2:
            Y, loss = index[:, None].astype(np.float64), BinaryLogLoss()
            out_activation = "logistic"
        else:
            Y = _dask.one_hot(index, len(classes))
            loss, out_activation = MultinomialLogLoss(), "softmax"
        if warm and (
            not _equal_labels(self.classes_, classes) or self._y_type != target_type
        ):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes "
                f"as in the previous call to fit. Previously got {self.classes_} "
                f"({self._y_type}), `y` has {classes} ({target_type}). Set "
                "warm_start=False to fit from scratch."
            )
        return self._fit_network(
            X,
            y,
            Y,
            weights,
            loss,
            stratify=None,
            fitted={
                "classes_": classes,
                "out_activation_": out_activation,
                "_y_type": target_type,
            },
            warm=warm,
        )

    def _validation_score(self, out, Y_val, weight_val):
        return accuracy_score(
            self._labels_of(Y_val - 0.5),
            self._labels_of(out),
            sample_weight=weight_val,
        )

    @staticmethod
    def _multilabel_score(out, Y_val, weight_val):
        """Subset accuracy, MLPClassifier's validation score for multilabel y."""
        return accuracy_score(
            _as_int(Y_val), _as_int(out > 0), sample_weight=weight_val
        )

    @staticmethod
    def _labels_of(out):
        """Class indices from raw outputs (or from centred encoded targets)."""
        if out.shape[1] > 1:
            return ns.namespace(out).argmax(out, axis=1)
        return _as_int(out[:, 0] > 0)

    def decision_function(self, X):
        """Raw network output (logits).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The logit of the positive class (binary; for a single class, of
            "another class"), of every class (multiclass) or of every label
            (multilabel).
        """
        out = self._raw_output(X, "decision_function")
        return out[:, 0] if out.shape[1] == 1 else out

    def predict(self, X):
        """Most probable class, or the labels whose probability exceeds 1/2.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Predicted labels; for multilabel targets the indicator matrix
            (integers 0 and 1, as MLPClassifier).
        """
        out = self._raw_output(X)
        if self._y_type == "multilabel-indicator":
            return _as_int(out > 0)
        if isinstance(out, np.ndarray):
            if len(self.classes_) == 1:
                return np.full(out.shape[0], self.classes_[0])
            return self.classes_[self._labels_of(out)]
        xp = ns.namespace(out)
        if self.classes_.shape[0] == 1:
            labels = xp.zeros(out.shape[0], dtype=xp.int64, device=ns.device(out))
        else:
            labels = self._labels_of(out)
        if ns.is_dask(out):
            from . import _dask

            return _dask.take(self.classes_, labels)
        return xp.take(self.classes_, labels, axis=0)

    def predict_proba(self, X):
        """Class probabilities, or each label's probability (multilabel).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes) or (n_samples, n_labels)
            Probabilities in the order of ``classes_``: the softmax of the
            logits (multiclass), their logistic function (binary, and each
            label of a multilabel target, independently), or a column of
            ones for a single class.
        """
        check_is_fitted(self)
        if self._y_type == "multilabel-indicator":
            return ACTIVATIONS["logistic"][0](self._raw_output(X, "predict_proba"))
        if self.classes_.shape[0] == 1:
            out = self._raw_output(X, "predict_proba")
            xp = ns.namespace(out)
            if xp is np:
                return np.ones((out.shape[0], 1), dtype=out.dtype)
            return xp.ones((out.shape[0], 1), dtype=out.dtype, device=ns.device(out))
        return super().predict_proba(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class SOTwoLayerRegressor(RegressorMixin, _BaseTwoLayer):
    _foreign_keywords = MLP_REGRESSOR_KEYWORDS
    _replaces = "MLPRegressor"

    __doc__ = (
        """Two-layer network regressor with per-layer rates chosen exactly.
"""
        + _SHARED_DOC
        + """
    The loss is half the squared error averaged over samples *and* outputs:
    the value MLPRegressor reports as ``loss_``. Its gradient is the gradient
    of that value; MLPRegressor's lbfgs solver instead uses the gradient of
    the per-sample *sum* over outputs (scikit-learn issue #8349), so with
    several outputs the two objectives differ by the factor ``n_outputs`` on
    the loss term. We follow the reported value so that ``loss_`` compares
    like with like.

    Standardise X, and y too when its scale is far from 1
    (``TransformedTargetRegressor(..., transformer=StandardScaler())``): with
    a target scaled by 1e4 the default ``solver="ls"`` converged far more
    slowly in our tests (see the user guide's known limits).

    Parameters
    ----------
    hidden_units : int or tuple of one int, default=100
        Width r of the hidden layer; ``(r,)`` (MLP's ``hidden_layer_sizes``
        for one hidden layer) means the same. Longer tuples raise a
        ValueError: there is one hidden layer.
    activation : {"tanh", "logistic", "relu", "identity"}, default="tanh"
        Hidden activation.
    alpha : float, default=1e-4
        L2 penalty, with MLPRegressor's scaling.
    solver : {"ls", "lo", "ps", "so", "fixed"}, default="ls"
        How the rates are chosen; see SOTwoLayerClassifier (the default was
        measured there too).
    direction : {"lbfgs", "gd", "adam"}, default="lbfgs"
        Search direction.
    max_iter : int, default=500
        Maximum number of iterations. ``0`` returns the starting network
        (Glorot weights, or the previous fit's with ``warm_start``) with a
        ConvergenceWarning (MLP requires at least 1).
    tol : float, default=1e-5
        Gradient tolerance; also the improvement early stopping asks for.
    memory : int or "auto", default=10
        L-BFGS curvature pairs; "auto" as in
        :class:`~sklearn_so.SOLogisticRegression` (up to 100). 10 by default:
        with the network's many parameters each pair costs more, and in
        ``benchmarks/bench_memory.py`` 50 or 100 pairs made 200 iterations
        8-35% slower for an objective lower by 1% (digits) or 1.85-2.70x
        (a regression): a gain on one problem of two.
    memory_directions : int, default=1
        Older moves per layer added to the subspace by ``solver="so"``.
    learning_rate, momentum : float, default=0.1, 0.0
        Constant rates of ``solver="fixed"``; ignored otherwise.
    random_state : int, RandomState instance or None, default=None
        Seeds the Glorot initialisation and the validation split.
    warm_start : bool, default=False
        Start from the previous fit's weights (from their float64 values
        after a float32 fit, unless the weights were changed since). A refit
        whose weights would have other shapes (other features, outputs or
        ``hidden_units``) raises a ValueError and keeps the previous model,
        as does, in the classifier, one with another set of classes (as in
        MLPClassifier).
    early_stopping : bool, default=False
        Stop on the held-out R^2, keeping the best network.
    validation_fraction : float, default=0.1
        Share of the data held out for early stopping, in [0, 1) as in MLP.
        With ``early_stopping=True`` it must hold out at least two samples;
        the classifier's split is stratified, which needs at least as many
        samples as classes on each side and two samples of every class.
    n_iter_no_change : int or np.inf, default=10
        Patience of early stopping.
    verbose : int, default=0
        When positive, print one line every ``max(1, 100 // verbose)``
        iterations (``verbose=1``: every 100th, ``verbose>=100``: every one)
        with the iteration number, the objective (the value ``loss_curve_``
        records), the largest absolute gradient entry, the learning and
        momentum rates chosen for each layer and the products with the
        training X so far (setup included), and a last line saying why the
        fit stopped.

    Attributes
    ----------
    coefs_, intercepts_ : lists of two ndarrays
        Weights and biases of the two layers, in the dtype of the training X
        (float32 or float64; see SOTwoLayerClassifier), and so are the
        predictions for float32 X.
    n_outputs_ : int
        Number of regression targets.
    out_activation_ : str
        "identity".
    n_layers_ : int
        3.
    loss_, loss_curve_, n_iter_ : float, list, int
        Final objective, objective per iteration, iterations run.
    best_loss_ : float or None
        The lowest objective reached (None with early stopping, as in MLP;
        see SOTwoLayerClassifier).
    t_ : int
        Training samples seen: ``n_iter_`` times the number of training
        samples (see SOTwoLayerClassifier).
    loss_times_ : list of float
        Seconds since the first iteration began, after every iteration (see
        SOTwoLayerClassifier).
    learning_rates_, momentum_rates_ : ndarray of shape (``n_iter_``, 2)
        Rates chosen per iteration and layer.
    memory_ : int
        ``memory`` resolved: the number of curvature pairs the L-BFGS
        direction keeps (unused by the other directions).
    n_products_ : int
        Products with the training X.
    product_counts_ : dict
        Products by purpose (see SOTwoLayerClassifier).
    validation_scores_, best_validation_score_ : list, float or None
        Held-out R^2 per iteration and its best (early stopping only; a fit
        that ran no iteration holds the starting network's score).
    stop_reason_ : str
        Why the fit stopped.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Feature names, when X has string column names.

    See Also
    --------
    sklearn.neural_network.MLPRegressor : The same objective with
        scikit-learn's solvers.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_so import SOTwoLayerRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, size=(200, 2))
    >>> y = np.sin(X[:, 0]) + X[:, 1] ** 2
    >>> reg = SOTwoLayerRegressor(hidden_units=20, tol=1e-4, random_state=0)
    >>> reg = reg.fit(X, y)
    >>> reg.score(X, y) > 0.99
    True
    """
    )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        self : SOTwoLayerRegressor
            The fitted estimator.
        """
        warm = self.warm_start and hasattr(self, "coefs_")
        if ns.is_dask(X):
            # Always the dask path: validate_data would gather X.
            return self._fit_dask(X, y, sample_weight, warm)
        # As SOTwoLayerClassifier: another library's X (array_api_dispatch)
        # is trained in its namespace, on its device, and y follows it.
        xp, device = ns.namespace_and_device(X)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=[xp.float64, xp.float32],
            multi_output=True,
            y_numeric=True,
            # A warm start needs the features of the previous fit; checking
            # without resetting keeps the previous model intact if they differ.
            reset=not warm,
        )
        if xp is np:
            Y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        else:
            y = move_to(y, xp=xp, device=device)
            Y = xp.reshape(xp.astype(y, X.dtype), (y.shape[0], -1))
        return self._fit_network(
            X,
            y,
            Y,
            sample_weight,
            HalfSquaredLoss(),
            stratify=None,
            fitted={"out_activation_": "identity", "_single_output": y.ndim == 1},
            warm=warm,
        )

    def _fit_dask(self, X, y, sample_weight, warm):
        """:meth:`fit` for a dask X: targets and weights with X's row chunks."""
        from . import _dask

        X = _dask.check_X(self, X, reset=not warm)
        targets = _dask.rows_like(X, y, "y", np.float64)
        if targets.ndim > 2:
            raise ValueError(f"y must be 1-D or 2-D, got shape {targets.shape}.")
        weights = None
        if sample_weight is not None:
            weights = _dask.rows_like(X, sample_weight, "sample_weight", np.float64)
        _dask.check_finite_and_labels(X, None, weights, targets=targets)
        Y = targets[:, None] if targets.ndim == 1 else targets
        return self._fit_network(
            X,
            y,
            Y,
            weights,
            HalfSquaredLoss(),
            stratify=None,
            fitted={
                "out_activation_": "identity",
                "_single_output": targets.ndim == 1,
            },
            warm=warm,
        )

    @staticmethod
    def _validation_score(out, Y_val, weight_val):
        return r2_score(Y_val, out, sample_weight=weight_val)

    def predict(self, X):
        """Predicted targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions (one-dimensional when fitted on a one-dimensional y).
        """
        out = self._raw_output(X)
        return out[:, 0] if self._single_output else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
