"""scikit-learn callbacks (``sklearn.callback``) for the shared outer loop.

A fit is one callback task whose subtasks are the outer iterations, as
LogisticRegression(solver="lbfgs") reports them: ``on_fit_task_begin`` when
an iteration starts and ``on_fit_task_end`` when it ends, each with the
attributes that make a copy of the estimator predict as if the fit had
stopped there. A subtask is opened only once the gradient criterion is known
not to be met, so a fit that stops by convergence, ``max_iter``, early
stopping or a callback has exactly ``n_iter_`` subtasks. The one exception
is an iteration that starts but finds no decrease or diverges: its subtask
ends empty (no fitted estimator is passed), as the extra subtask of
LogisticRegression's lbfgs solver does.
"""

CALLBACK_STOP_REASON = "a callback's on_fit_task_end hook asked to stop"


class FitTask:
    """The fit-level callback task of one fit.

    Opens the estimator's root callback context and calls its
    ``on_fit_task_begin`` hooks; :meth:`end` calls the matching
    ``on_fit_task_end`` hooks once the estimator holds its fitted attributes.

    Parameters
    ----------
    estimator : estimator instance
        The estimator being fitted (a ``CallbackSupportMixin``).
    X, y : array-like
        The training data as given to fit (validated), passed to the hooks;
        ``ScoringMonitor`` scores the intermediate models on them.
    sample_weight : array-like or None
        Passed to the hooks as ``metadata={"sample_weight": ...}``.
    max_subtasks : int
        At most one subtask per iteration: ``max_iter``.
    """

    def __init__(self, estimator, X, y, sample_weight, max_subtasks):
        self.estimator = estimator
        self.X = X
        self.y = y
        self.metadata = (
            None if sample_weight is None else {"sample_weight": sample_weight}
        )
        self.context = estimator._init_callback_context(max_subtasks=max_subtasks)
        self.context.call_on_fit_task_begin(
            estimator=estimator, X=X, y=y, metadata=self.metadata
        )

    @property
    def has_callbacks(self):
        """Whether any callback is set (otherwise iterations are not reported)."""
        return bool(getattr(self.estimator, "_skl_callbacks", None))

    def iteration_hooks(self, reconstruct, monitor=None):
        """The per-iteration bridge to pass to the outer loop.

        Parameters
        ----------
        reconstruct : callable
            ``reconstruct(theta)`` returns the fitted attributes (a dict) of
            the model with parameters ``theta``.
        monitor : callable or None
            Another ``on_iteration`` hook (early stopping), run as well.

        Returns
        -------
        bridge : IterationBridge
        """
        return IterationBridge(self, reconstruct, monitor)

    def end(self):
        """Call the fit-level ``on_fit_task_end`` hooks on the fitted estimator."""
        self.context.call_on_fit_task_end(
            estimator=self.estimator,
            X=self.X,
            y=self.y,
            metadata=self.metadata,
            reconstruction_attributes={},
        )


class IterationBridge:
    """One callback subtask per outer iteration, composed with a monitor.

    Pass :meth:`begin` as the loop's ``on_iteration_begin`` and the bridge
    itself as its ``on_iteration``; call :meth:`close` when the loop has
    returned.

    Parameters
    ----------
    task : FitTask
        The fit-level task the subtasks belong to.
    reconstruct : callable
        ``reconstruct(theta)`` returns the fitted attributes of ``theta``.
    monitor : callable or None
        An ``on_iteration`` hook with ``stopped`` and ``reason`` attributes
        (early stopping); it runs on every iteration too and either it or the
        callbacks can stop the fit.
    """

    def __init__(self, task, reconstruct, monitor=None):
        self.task = task
        self.reconstruct = reconstruct
        self.monitor = monitor
        self.stopped_by_callback = False
        self._open = None

    @property
    def stopped(self):
        """Whether a callback or the monitor stopped the fit."""
        return self.stopped_by_callback or getattr(self.monitor, "stopped", False)

    @property
    def reason(self):
        """Why the fit was stopped (read by the loop after a stop)."""
        reasons = []
        if getattr(self.monitor, "stopped", False):
            reasons.append(self.monitor.reason)
        if self.stopped_by_callback:
            reasons.append(CALLBACK_STOP_REASON)
        return "; ".join(reasons) or "stopped by a callback"

    def _call(self, hook, theta, **kwargs):
        task = self.task
        # A callable is evaluated only if some callback asks for the fitted
        # estimator, so progress bars cost no copy of the parameters.
        return hook(
            estimator=task.estimator,
            X=task.X,
            y=task.y,
            metadata=task.metadata,
            reconstruction_attributes=lambda: self.reconstruct(theta),
            **kwargs,
        )

    def begin(self, iteration, theta):
        """Open the subtask of ``iteration`` from parameters ``theta``."""
        self.close()
        self._open = self.task.context.subcontext(task_name="iteration")
        self._call(self._open.call_on_fit_task_begin, theta)

    def __call__(self, iteration, theta, value):
        """End the iteration's subtask; True if a callback or the monitor stops."""
        stop = False
        if self.monitor is not None:
            stop = bool(self.monitor(iteration, theta, value))
        context, self._open = self._open, None
        if context is not None and self._call(context.call_on_fit_task_end, theta):
            self.stopped_by_callback = True
            stop = True
        return stop

    def close(self):
        """End a subtask whose iteration did not complete, as an empty task."""
        if self._open is not None:
            context, self._open = self._open, None
            context.call_on_fit_task_end(estimator=self.task.estimator)
