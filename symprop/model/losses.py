"""Every loss, once: how one example's loss is built, its layer name, and for the fused
softmax with cross-entropy its SymPy function and stable numerics.

:data:`LOSS_RECORDS` maps a network file's loss name to its record, in the
order files list them. To add a loss, add one record here.
"""
from __future__ import annotations

import functools

import numpy
import sympy
from sympy import Integer, Rational, S, exp, log

from symprop.model.activations import softmax
from symprop.model.records import LossRecord, SympropFunction


class softmax_cross_entropy(SympropFunction):
    r"""Softmax with cross-entropy, fused:
    L(z; t) = -sum_k t_k log softmax_k(z), with arguments (z_1..z_n, t_1..t_n).

    dL/dz_j = softmax_j(z) - t_j, which holds because the targets form a
    probability distribution (sum_k t_k = 1, a one-hot label in particular);
    dL/dt_k = -log softmax_k(z).
    """

    latex_name = r"L_{\mathrm{CE}}"

    @property
    def width(self) -> int:
        return len(self.args) // 2

    @property
    def logits(self):
        return self.args[: self.width]

    @property
    def targets(self):
        return self.args[self.width:]

    @classmethod
    def eval(cls, *args):
        if len(args) % 2 or not args:
            raise ValueError("softmax_cross_entropy takes logits and targets of equal length")

    def fdiff(self, argindex=1):
        n = self.width
        if argindex <= n:
            return softmax(Integer(argindex), *self.logits) - self.targets[argindex - 1]
        k = argindex - n
        return -log(softmax(Integer(k), *self.logits))

    def _eval_rewrite_as_exp(self, *args, **kwargs):
        n = len(args) // 2
        z, t = args[:n], args[n:]
        total = sympy.Add(*[exp(zj) for zj in z])
        return -sympy.Add(*[tk * (zk - log(total)) for zk, tk in zip(z, t)])

    def latex_parts(self):
        """Logits, then targets: ``L_CE(z_1, ..., z_n; t_1, ..., t_n)``."""
        return None, (self.logits, self.targets)


def a_distribution(total) -> bool:
    """Whether targets summing to ``total`` form a distribution, as :class:`softmax_cross_entropy`'s
    derivative ``softmax - t`` needs (a one-hot label, or probabilities summing to 1)."""
    return abs(total - 1) <= 1e-9


def _softmax_cross_entropy_scalar(lib):
    def softmax_cross_entropy(*logits_and_targets):
        # sum_k t_k (log sum_j e^{z_j} - z_k), the log-sum-exp shifted by the largest logit
        n = len(logits_and_targets) // 2
        z, t = logits_and_targets[:n], logits_and_targets[n:]
        top = max(z)
        total = top + lib.log(sum(lib.exp(zj - top) for zj in z))
        return sum(tk * (total - zk) for zk, tk in zip(z, t))
    return softmax_cross_entropy


def _softmax_cross_entropy_numpy(*logits_and_targets):
    """-sum_k t_k log softmax_k(z), given z_1..z_n, t_1..t_n, shifted by max_j z_j."""
    n = len(logits_and_targets) // 2
    z, t = logits_and_targets[:n], logits_and_targets[n:]
    top = functools.reduce(numpy.maximum, z)
    total = top + numpy.log(sum(numpy.exp(zj - top) for zj in z))
    return sum(tk * (total - zk) for zk, tk in zip(z, t))


def _pairs(outputs, targets):
    return list(zip(outputs, targets))


def _half_sse(outputs, targets, logits):
    return sympy.Add(*[Rational(1, 2) * (t - o) ** 2 for o, t in _pairs(outputs, targets)])


def _sse(outputs, targets, logits):
    return sympy.Add(*[(o - t) ** 2 for o, t in _pairs(outputs, targets)])


def _mse(outputs, targets, logits):
    return Rational(1, len(outputs)) * _sse(outputs, targets, logits)


def _half_mse(outputs, targets, logits):
    return Rational(1, 2 * len(outputs)) * _sse(outputs, targets, logits)


def _cross_entropy(outputs, targets, logits):
    pairs = _pairs(outputs, targets)
    if len(pairs) == 1:
        (o, t), = pairs
        return -(t * sympy.log(o) + (1 - t) * sympy.log(1 - o))
    return -sympy.Add(*[t * sympy.log(o) for o, t in pairs])


def _softmax_cross_entropy(outputs, targets, logits):
    return softmax_cross_entropy(*logits, *targets)


def _upstream(outputs, gradients, logits):
    """``L = sum_k g_k y_k``: its gradient by each output is the given ``g_k``, as a layer's
    ``backward(dout)`` receives it."""
    return sympy.Add(*[g * o for o, g in _pairs(outputs, gradients)])


def _sum(outputs, targets, logits):
    """``L = sum_k y_k``: every output's upstream gradient is 1."""
    return sympy.Add(*outputs)


#: Loss name -> record, in the order network files list them. The docstrings state each loss over
#: m outputs o (targets t): half_sse 1/2 sum (t - o)^2 (Mazur); sse sum (o - t)^2 (3Blue1Brown's
#: (a - y)^2); mse 1/m sum (o - t)^2; half_mse 1/(2m) sum (o - t)^2; cross_entropy -sum t log o
#: (binary -t log o - (1 - t) log(1 - o) for one output); softmax_cross_entropy -sum t log softmax(z);
#: upstream sum g o, for a given upstream gradient g (one number per output) in the targets' place;
#: sum: sum o, no targets (a layer stack's outputs each get the upstream gradient 1).
#: A squared error's gradient is scale(n) (o - t): 1 when its 1/2 cancels the square's 2, 1/n for a mean.
LOSS_RECORDS: dict[str, LossRecord] = {record.name: record for record in (
    LossRecord("half_sse", None, expression=_half_sse, layer_name="Half-Squared-Error-Loss",
               gradient_scale=lambda n: S.One),
    LossRecord("sse", None, expression=_sse, layer_name="Squared-Error-Loss", gradient_scale=lambda n: Integer(2)),
    LossRecord("mse", None, expression=_mse, layer_name="Mean-Squared-Error-Loss", gradient_scale=lambda n: 2 / n),
    LossRecord("half_mse", None, expression=_half_mse, layer_name="Half-Mean-Squared-Error-Loss",
               gradient_scale=lambda n: 1 / n),
    LossRecord("cross_entropy", None, expression=_cross_entropy, layer_name="Cross-Entropy-Loss"),
    LossRecord("softmax_cross_entropy", softmax_cross_entropy, arity=(2, None), expression=_softmax_cross_entropy,
               layer_name="Softmax-with-Loss", fused=True, latex=softmax_cross_entropy.latex_name, scalar=_softmax_cross_entropy_scalar,
               numpy=_softmax_cross_entropy_numpy, written_out=True),
    LossRecord("upstream", None, expression=_upstream, layer_name="Upstream-Gradient", given=("g{j}", "g_{{{j}}}"),
               given_vector="g"),
    LossRecord("sum", None, expression=_sum, layer_name="Sum", takes_targets=False),
)}
