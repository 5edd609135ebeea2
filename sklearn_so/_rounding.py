"""How far the cached images may be from exact products: rounding estimates.

Between exact refreshes the loop never recomputes ``Z = X W1 + b1``: the
cached pre-activation is updated with the image of each step, a combination
of the direction's image ``X D`` and the moves' images with the chosen
rates, and each move's image is kept for the next steps. Every product and
every sum rounds, and the rates carry each rounding into every later image
built from it. With rates of order one the drift stays at ``n_iter * eps``
(hence the periodic refresh); with large rates on nearly cancelling images
(duplicated features, a runaway momentum rate) it can grow geometrically,
and the cached objective stops being the model's.

A :class:`RoundingLedger` follows each rounding (a *source*: one product
``X D``, one sum) through the rates exactly: the error of an image is
``sum_s c_s e_s``, with ``e_s`` the source's size (``eps`` times the terms
it summed: ``max(|X| @ |D|)`` for a product) and ``c_s`` the coefficient
the rates gave it, tracked on
the host (a few numbers per iteration, no pass over the rows). Bounding it
by ``sum_s |c_s| e_s`` lets the coefficients of one source cancel, as the
roundings themselves do when momentum and memory rates of opposite signs
recombine the same images: a bound on the recursion instead (``|rate|``
times each image's bound) grows geometrically there while the actual drift
stays at rounding level.

:func:`objective_uncertainty` turns the error of ``Z`` into one of the
objective to first order, ``sum |dF/dZ| * error``: what the drift costs the
objective, whatever the size of ``Z`` (two samples whose logits tie to
within the drift decide the objective even when ``max|Z|`` is huge). The
loop recomputes ``Z`` exactly and checks the step when that uncertainty
exceeds :func:`trusted_digits` of the objective: half its digits.
"""

# Sources kept per image; the smallest contributions are merged into one
# source, so the bookkeeping per iteration stays O(1).
MAX_SOURCES = 8


class ImageError:
    """The rounding carried by one cached image.

    Attributes
    ----------
    coefficients : dict
        Source id to the coefficient the rates gave that source's rounding.
    size : float
        Upper bound on the image's largest absolute entry.
    settled : float
        The bound on the contributions of sources that no other cached
        image carries any more: nothing can cancel them now.
    """

    # A plain class with slots: one is built per image per iteration.
    __slots__ = ("coefficients", "settled", "size")

    def __init__(self, coefficients, size, settled=0.0):
        self.coefficients = coefficients
        self.size = size
        self.settled = settled

    def with_size(self, size):
        """The same error, with the size measured instead of bounded."""
        return ImageError(self.coefficients, size, self.settled)


class RoundingLedger:
    """Tracks the roundings of the cached images through the chosen rates.

    Parameters
    ----------
    product_eps : float
        Machine epsilon of the products (X's precision).
    update_eps : float
        Machine epsilon of the cached images' updates (the engine's).
    """

    def __init__(self, product_eps, update_eps):
        self.product_eps = product_eps
        self.update_eps = update_eps
        self.magnitudes = {}
        self._next = 0

    def _source(self, magnitude):
        """A new rounding of largest entry ``magnitude``; return its id."""
        source = self._next
        self._next += 1
        self.magnitudes[source] = magnitude
        return source

    def product(self, size, scale=None):
        """The error of a freshly computed image ``X M`` (plus ``b``).

        Parameters
        ----------
        size : float
            Its largest absolute entry.
        scale : float or None
            ``max(|X| @ |M|) + max|b|``, the size of the terms the product
            summed (see ``ProductEngine.column_scale``); it rounds at
            ``eps * scale``, far above ``eps * size`` when the terms cancel.
            None: ``size``.
        """
        scale = size if scale is None else max(scale, size)
        return ImageError({self._source(self.product_eps * scale): 1.0}, size)

    def combine(self, rates, errors, size=None):
        """The error of ``sum_j rates[j] * image_j`` (plus its own rounding).

        Parameters
        ----------
        rates : sequence of float
            The coefficients.
        errors : sequence of (ImageError or None)
            Each image's error; None for a direction without an image.
        size : float or None
            The result's largest entry if measured; else bounded by
            ``sum_j |rates[j]| size_j``.

        Returns
        -------
        ImageError
        """
        if hasattr(rates, "tolist"):
            rates = rates.tolist()  # Python floats: numpy scalars are slower
        coefficients, bound, settled, terms = {}, 0.0, 0.0, 0
        for rate, error in zip(rates, errors, strict=True):
            if error is None or rate == 0.0:
                continue
            for source, c in error.coefficients.items():
                coefficients[source] = coefficients.get(source, 0.0) + rate * c
            bound += abs(rate) * error.size
            settled += abs(rate) * error.settled
            terms += 1
        # A product and an addition per term, each rounding at most eps * bound.
        coefficients[self._source(self.update_eps * 2 * terms * bound)] = 1.0
        size = bound if size is None else size
        return self._pruned(ImageError(coefficients, size, settled))

    def plus(self, left, right, size=None):
        """The error of ``left + right`` (the cached ``Z`` plus a step's image).

        ``size`` is the sum's largest entry if measured (else bounded). The
        sum's own rounding is settled at once: ``Z`` is never scaled by a
        rate, so nothing can cancel it.
        """
        coefficients = dict(left.coefficients)
        for source, c in right.coefficients.items():
            coefficients[source] = coefficients.get(source, 0.0) + c
        bound = left.size + right.size
        settled = left.settled + right.settled + self.update_eps * 2 * bound
        size = bound if size is None else size
        return ImageError(coefficients, size, settled)

    def add_unkept(self, error, size, step_scale):
        """The error of ``Z`` after a step whose image is not kept.

        Without moves no image is reused, so no rounding can cancel: the
        step's product rounding and the sum's are settled at once.

        Parameters
        ----------
        error : ImageError
            The error of ``Z`` before the step.
        size : float
            The largest entry of ``Z`` after the step.
        step_scale : float
            The step's product scale: ``sum_j |a_j|`` times its direction's
            (see :meth:`product`).
        """
        rounding = self.product_eps * step_scale
        rounding += 2 * self.update_eps * (error.size + size)
        return ImageError({}, size, self.error(error) + rounding)

    def error(self, image_error):
        """The bound ``sum_s |c_s| e_s`` on the error."""
        if not image_error.coefficients:
            return image_error.settled
        return image_error.settled + sum(
            abs(c) * self.magnitudes[source]
            for source, c in image_error.coefficients.items()
        )

    def settle(self, image_error, live):
        """Fold the sources no image of ``live`` carries into ``settled``.

        Only images built later from ``live`` ones can bring a source new
        contributions (that might cancel); the others' contributions to
        ``image_error`` are final, and their bound loses nothing.
        Afterwards only the sources still used are remembered.

        Parameters
        ----------
        image_error : ImageError
            The error to settle (the cached ``Z``'s).
        live : sequence of (ImageError or None)
            The errors of the images later steps can reuse (the moves').

        Returns
        -------
        ImageError
        """
        used = set()
        for error in live:
            if error is not None:
                used.update(error.coefficients)
        if not used:
            if image_error.coefficients:
                image_error = ImageError({}, image_error.size, self.error(image_error))
            if self.magnitudes:
                self.magnitudes = {}
            return image_error
        kept, settled = {}, image_error.settled
        for source, c in image_error.coefficients.items():
            if source in used:
                kept[source] = c
            else:
                settled += abs(c) * self.magnitudes[source]
        used.update(kept)
        self.magnitudes = {s: m for s, m in self.magnitudes.items() if s in used}
        return ImageError(kept, image_error.size, settled)

    def _pruned(self, image_error):
        """Keep the ``MAX_SOURCES`` largest contributions; merge the others.

        The smaller contributions become one new source of their summed
        size, which later rates carry on as one rounding. Merging waits
        until twice as many sources have gathered, so that its sort runs
        every few iterations rather than on every one.
        """
        coefficients = image_error.coefficients
        if len(coefficients) <= 2 * MAX_SOURCES:
            return image_error
        ranked = sorted(
            coefficients,
            key=lambda s: abs(coefficients[s]) * self.magnitudes[s],
            reverse=True,
        )
        kept = {s: coefficients[s] for s in ranked[: MAX_SOURCES - 1]}
        merged = self._source(0.0)
        self.magnitudes[merged] = sum(
            abs(coefficients[s]) * self.magnitudes[s] for s in ranked[MAX_SOURCES - 1 :]
        )
        kept[merged] = 1.0
        return ImageError(kept, image_error.size, image_error.settled)


def objective_uncertainty(sensitivity, error):
    """First-order error of the objective from an error in ``Z``.

    Parameters
    ----------
    sensitivity : float
        ``sum |dF/dZ|`` over the entries of ``Z`` (the residual matrix the
        gradient's product uses).
    error : float
        Bound on the largest absolute error of the cached ``Z``.
    """
    return sensitivity * error


def trusted_digits(value, eps):
    """The largest objective uncertainty the loop accepts from drift.

    ``sqrt(eps) * |value|``: half the working digits. Ordinary fits,
    refreshed every ``REFRESH_EVERY`` iterations, stay orders of magnitude
    below it; rounding amplified by large rates on nearly cancelling images
    reaches it within a few iterations.
    """
    return eps**0.5 * abs(value)
