"""What the demo and the benchmark scripts share, each defined once.

The demo (``python -m sklearn_so demo``) ships with the package and the
benchmark scripts (``benchmarks/``) run from a checkout; both build the same
kinds of problems, time fits to a target objective and print tables, so the
code they share lives here, one concept per module:

- :mod:`~sklearn_so._harness.datasets`: the problems, built on this machine
  from seeds (no download);
- :mod:`~sklearn_so._harness.fits`: what is fitted (:class:`Candidate`), one
  timed fit, BLAS threads, and the check that an estimator's ``loss_`` is the
  objective it is compared on;
- :mod:`~sklearn_so._harness.timing`: the time a fit took to reach a target
  objective, read from its per-iteration timestamps;
- :mod:`~sklearn_so._harness.reports`: plain-text and Markdown tables, CSV
  files;
- :mod:`~sklearn_so._harness.figures`: matplotlib set up for files.

Private: not part of the package's API. Importing it needs only the core
dependencies (matplotlib is imported by the figure functions when called).
"""
