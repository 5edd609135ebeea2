"""
======================================================
Sparse text classification against LogisticRegression
======================================================

Text classification gives wide, very sparse matrices: many documents, a large
vocabulary, a few dozen words per document. :class:`~sklearn_so.SOLogisticRegression`
uses a SciPy CSR matrix as it is (no densifying, no copy), and each of its
iterations costs two sparse products. Here it is compared with
:class:`~sklearn.linear_model.LogisticRegression` on the same objective.

The documents are generated in the script, so nothing is downloaded: words
follow a power law (a few very frequent words, a long tail of rare ones), as
in natural text, and each of the two classes uses a hundred topic words more
often than the other.
"""

# %%
# Documents and features
# ----------------------
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from sklearn_so import SOLogisticRegression

rng = np.random.default_rng(0)
n_documents, vocabulary_size, mean_length = 20_000, 20_000, 40
vocabulary = np.array([f"w{k}" for k in range(vocabulary_size)])
frequency = 1.0 / np.arange(1, vocabulary_size + 1) ** 1.1

labels = rng.integers(0, 2, n_documents)
documents = [None] * n_documents
for label in (0, 1):
    # Each class boosts its own hundred topic words, drawn from the middle of
    # the frequency range.
    topic = rng.choice(np.arange(50, 5000), size=100, replace=False)
    weights = frequency.copy()
    weights[topic] *= 8.0
    weights /= weights.sum()
    members = np.flatnonzero(labels == label)
    lengths = rng.poisson(mean_length, size=len(members)) + 1
    words = rng.choice(vocabulary_size, size=lengths.sum(), p=weights)
    chunks = np.split(words, np.cumsum(lengths)[:-1])
    for index, chunk in zip(members, chunks, strict=True):
        documents[index] = " ".join(vocabulary[chunk])

docs_train, docs_test, y_train, y_test = train_test_split(
    documents, labels, test_size=0.25, random_state=0
)
vectorizer = TfidfVectorizer(sublinear_tf=True)
X_train = vectorizer.fit_transform(docs_train)
X_test = vectorizer.transform(docs_test)
print(
    f"X_train: {X_train.shape[0]} x {X_train.shape[1]} CSR, "
    f"{X_train.nnz / np.prod(X_train.shape):.2%} non-zero"
)

# %%
# The fits
# --------
# The same ``C`` for every estimator, so they minimise the same objective;
# ``objective`` computes it, scaled as ``loss_`` (mean log-loss plus
# ``||w||^2 / (2 C n)``), from each estimator's coefficients. One thread, as in
# the benchmarks, so that the times do not depend on the rest of the machine.
C = 10.0


def objective(estimator):
    penalty = (estimator.coef_**2).sum() / (2 * C * X_train.shape[0])
    return log_loss(y_train, estimator.predict_proba(X_train)) + penalty


estimators = {
    'SO solver="ls"': SOLogisticRegression(C=C, tol=1e-6),
    'SO solver="so"': SOLogisticRegression(C=C, solver="so", tol=1e-6),
    "LogisticRegression lbfgs": LogisticRegression(C=C, tol=1e-6, max_iter=1000),
    "LogisticRegression newton-cg": LogisticRegression(
        C=C, solver="newton-cg", tol=1e-6
    ),
}
times = {}
with threadpool_limits(limits=1):
    for name, estimator in estimators.items():
        start = time.perf_counter()
        estimator.fit(X_train, y_train)
        times[name] = time.perf_counter() - start

# The optimum, from a much tighter Newton fit (not timed).
reference = LogisticRegression(C=C, solver="newton-cg", tol=1e-12).fit(X_train, y_train)
best = objective(reference)
header = f"{'estimator':30s} {'time [s]':>9s} {'n_iter':>7s} {'(f - f*)/f*':>12s}"
print(f"{header} {'test acc':>9s}")
for name, estimator in estimators.items():
    gap = (objective(estimator) - best) / best
    print(
        f"{name:30s} {times[name]:9.3f} {estimator.n_iter_[0]:7d} {gap:12.1e} "
        f"{estimator.score(X_test, y_test):9.4f}"
    )
for name in ('SO solver="ls"', 'SO solver="so"'):
    print(f"{name}: {estimators[name].product_counts_}")

# %%
# The objective over the iterations of the two SO fits, against the
# objective LogisticRegression reached. Both reach the same optimum; how fast
# in seconds depends on the machine (see the table above and the benchmarks
# in the documentation, where the 100,000 x 20,000 sparse problem is one of
# the datasets).
fig, ax = plt.subplots(figsize=(6, 3.8))
for name in ('SO solver="ls"', 'SO solver="so"'):
    curve = np.array(estimators[name].loss_curve_)
    ax.semilogy(
        np.arange(1, len(curve) + 1),
        np.maximum((curve - best) / best, 1e-16),
        "o-",
        ms=3,
        label=name,
    )
ax.axhline(
    (objective(estimators["LogisticRegression lbfgs"]) - best) / best,
    color="k",
    ls="--",
    lw=1,
    label="LogisticRegression lbfgs, final",
)
ax.set_xlabel("iteration")
ax.set_ylabel("(f - f*) / f*")
ax.legend()
ax.grid(True, alpha=0.3)
fig.tight_layout()
plt.show()
