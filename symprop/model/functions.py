"""Activations and fused losses as SymPy functions, each with its derivative identity.

Every class states its derivative next to its definition (``fdiff``), so that
``sympy.diff`` of a network node returns the identity a tutorial writes,
``sigma(z)(1 - sigma(z))``, and never a fraction of exponentials.
``rewrite(sympy.exp)`` (or :func:`elementary`) turns each one into elementary
functions, which is what the independent reference checks differentiate.
"""
from __future__ import annotations

import sympy
from mpmath.libmp import prec_to_dps
from sympy import Function, Heaviside, Integer, S, exp, log


class Activation(Function):
    """An elementwise activation ``a = f(z)``.

    ``latex_name`` is how it prints; ``definition`` gives ``f(z)`` in
    elementary functions for the reference checks.
    """

    latex_name = r"f"

    @classmethod
    def definition(cls, z):
        raise NotImplementedError

    def _eval_rewrite_as_exp(self, *args, **kwargs):
        return self.definition(*args)

    def _eval_evalf(self, prec):
        # Real numbers through the elementary definition, so sigmoid(1).evalf() is a Float;
        # anything else (a symbol, a complex value) stays as it is.
        args = [a.evalf(prec_to_dps(prec)) for a in self.args]
        if all(isinstance(a, sympy.Float) for a in args):
            return self.definition(*args)._eval_evalf(prec)
        return None

    def _eval_is_real(self):
        return self.args[0].is_real


class sigmoid(Activation):
    r"""sigma(z) = 1 / (1 + e^{-z});  sigma'(z) = sigma(z) (1 - sigma(z))."""

    latex_name = r"\sigma"
    nargs = 1

    def fdiff(self, argindex=1):
        return self * (1 - self)

    @classmethod
    def definition(cls, z):
        return 1 / (1 + exp(-z))

    @classmethod
    def eval(cls, z):
        if z is S.Zero:
            return S.Half


class relu(Activation):
    r"""relu(z) = max(0, z);  relu'(z) = H(z), the unit step (0 at z = 0)."""

    latex_name = r"\operatorname{ReLU}"
    nargs = 1

    @classmethod
    def eval(cls, z):
        if z.is_Number:
            return sympy.Max(0, z)

    def fdiff(self, argindex=1):
        return Heaviside(self.args[0], 0)

    @classmethod
    def definition(cls, z):
        return sympy.Max(0, z)


class leaky_relu(Activation):
    r"""leaky(z; alpha) = max(alpha z, z) for 0 < alpha < 1;
    leaky'(z) = H(z) + alpha H(-z), taken as alpha at z = 0 (a subgradient: between alpha and 1)."""

    latex_name = r"\operatorname{LeakyReLU}"
    nargs = 2

    @classmethod
    def eval(cls, z, alpha):
        if z.is_Number and alpha.is_Number:
            return z if z > 0 else alpha * z

    def fdiff(self, argindex=1):
        z, alpha = self.args
        if argindex == 2:
            return z * Heaviside(-z, 0)
        return Heaviside(z, 0) + alpha * Heaviside(-z, 1)

    @classmethod
    def definition(cls, z, alpha):
        return sympy.Piecewise((z, z > 0), (alpha * z, True))


class softplus(Activation):
    r"""softplus(z) = log(1 + e^{z});  softplus'(z) = sigma(z)."""

    latex_name = r"\operatorname{softplus}"
    nargs = 1

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    @classmethod
    def definition(cls, z):
        return log(1 + exp(z))


class softmax(Function):
    r"""softmax(k, z_1, ..., z_n) = e^{z_k} / sum_j e^{z_j};
    d softmax_k / d z_j = softmax_k (delta_{kj} - softmax_j).

    The first argument is the 1-based index ``k`` of the output.
    """

    latex_name = r"\operatorname{softmax}"

    @property
    def index(self) -> int:
        return int(self.args[0])

    @property
    def logits(self):
        return self.args[1:]

    def fdiff(self, argindex=1):
        if argindex == 1:
            return S.Zero
        j = argindex - 1
        if j == self.index:
            return self * (1 - self)
        return -self * softmax(Integer(j), *self.logits)

    def _eval_rewrite_as_exp(self, k, *z, **kwargs):
        return exp(z[int(k) - 1]) / sympy.Add(*[exp(zj) for zj in z])

    def _eval_is_real(self):
        return all(z.is_real for z in self.logits) or None


class softmax_cross_entropy(Function):
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


#: Activations a network file may name, by their file name.
ACTIVATIONS = {
    "sigmoid": sigmoid,
    "tanh": sympy.tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "softplus": softplus,
    "identity": None,
    "softmax": softmax,
}

#: Our own function classes, for parsing and for rewriting to elementary form.
FUNCTION_CLASSES = (sigmoid, relu, leaky_relu, softplus, softmax, softmax_cross_entropy)


def elementary(expr):
    """``expr`` with every symprop function written out in elementary functions.

    This is the independent reference: ``sympy.diff`` of the result never sees
    the derivative identities declared above.
    """
    return expr.replace(
        lambda e: isinstance(e, FUNCTION_CLASSES),
        lambda e: e.rewrite(exp),
    )
