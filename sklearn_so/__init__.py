"""scikit-learn estimators that choose their learning and momentum rates exactly.

Every iteration optimises the step sizes in a low-dimensional subspace using
cached products with X, so it costs two products with X, like a fixed step.
"""

from ._display import ConvergenceDisplay
from .linear_model import SOLogisticRegression
from .neural_network import SOTwoLayerClassifier, SOTwoLayerRegressor

__all__ = [
    "ConvergenceDisplay",
    "SOLogisticRegression",
    "SOTwoLayerClassifier",
    "SOTwoLayerRegressor",
]
__version__ = "0.1.0"
