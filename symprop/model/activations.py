"""Every activation, once: its SymPy function (derivative identity next to its
definition), its stable numerics for float64, mpmath and NumPy, and its record.

Each class states its derivative next to its definition (``fdiff``), so that
``sympy.diff`` of a network node returns the identity a tutorial writes,
``sigma(z)(1 - sigma(z))``, and never a fraction of exponentials;
``definition`` (reached by ``rewrite(sympy.exp)``) writes it in elementary
functions, which is what the independent reference checks differentiate.

The ``_activation`` decorator (or ``_add``, for a function SymPy already has)
files the record in :data:`ACTIVATION_RECORDS`, in the order network files
list the activations. To add an activation, add one such entry here.

The NumPy forms are pasted by their source into generated code, renamed to
the activation's name, so each is self-contained: it calls NumPy only.
"""
from __future__ import annotations

import functools

import numpy
import sympy
from sympy import Heaviside, Integer, Rational, S, exp, log

from symprop.model.records import Activation, ActivationRecord, SympropFunction

#: File name -> record, in the order network files list them.
ACTIVATION_RECORDS: dict[str, ActivationRecord] = {}


def _add(record: ActivationRecord) -> ActivationRecord:
    ACTIVATION_RECORDS[record.name] = record
    return record


def _activation(layer_name: str, **fields):
    """Class decorator: file the record of the activation class it decorates, named by the class."""

    def register(cls):
        _add(ActivationRecord(cls.__name__, cls, latex=cls.latex_name, layer_name=layer_name, **fields))
        return cls

    return register


# ---------------------------------------------------------------- sigmoid

def _sigmoid_scalar(lib):
    def sigmoid(z):
        # e^{-|z|} never overflows: 1/(1 + e^{-z}) for z >= 0, e^{z}/(1 + e^{z}) below.
        if z >= 0:
            return 1 / (1 + lib.exp(-z))
        e = lib.exp(z)
        return e / (1 + e)
    return sigmoid


def _sigmoid_numpy(z):
    """sigma(z) = 1 / (1 + e^(-z)), from e^(-|z|) so that no exponential overflows."""
    e = numpy.exp(-numpy.abs(z))
    return numpy.where(numpy.greater_equal(z, 0), 1 / (1 + e), e / (1 + e))


@_activation("Sigmoid", scalar=_sigmoid_scalar, numpy=_sigmoid_numpy)
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


# ---------------------------------------------------------------- tanh: SymPy's own, tanh' = 1 - tanh^2

# NumPy code calls numpy.tanh itself (SymPy's NumPy printer writes it), so no NumPy form here.
_add(ActivationRecord("tanh", sympy.tanh, scalar=lambda lib: lib.tanh, latex=r"\tanh", layer_name="Tanh"))


# ---------------------------------------------------------------- relu

def _relu_numpy(z):
    """max(0, z)."""
    return numpy.maximum(z, 0)


@_activation("ReLU", scalar=lambda lib: lambda z: z if z > 0 else 0 * z, numpy=_relu_numpy, written_out=True)
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


# ---------------------------------------------------------------- leaky relu

def _leaky_relu_numpy(z, alpha):
    """z for z > 0, alpha z otherwise."""
    return numpy.where(numpy.greater(z, 0), z, alpha * z)


def _leaky_relu_call(z, alpha=Rational(1, 100)):
    """``leaky_relu(z)`` in a text: the default slope 1/100."""
    return leaky_relu(z, alpha)


@_activation("LeakyReLU", arity=(1, 2), call=_leaky_relu_call, numpy=_leaky_relu_numpy, written_out=True,
             scalar=lambda lib: lambda z, alpha: z if z > 0 else alpha * z,
             unit=lambda function, nets, j, alpha: function(nets[j - 1], alpha))
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

    def latex_parts(self):
        """The slope as a subscript: ``LeakyReLU_{alpha}(z)``."""
        z, alpha = self.args
        return alpha, ((z,),)


# ---------------------------------------------------------------- softplus

def _softplus_scalar(lib):
    return lambda z: max(z, 0) + lib.log1p(lib.exp(-abs(z)))


def _softplus_numpy(z):
    """log(1 + e^z) = max(z, 0) + log(1 + e^(-|z|))."""
    return numpy.maximum(z, 0) + numpy.log1p(numpy.exp(-numpy.abs(z)))


@_activation("Softplus", scalar=_softplus_scalar, numpy=_softplus_numpy, written_out=True)
class softplus(Activation):
    r"""softplus(z) = log(1 + e^{z});  softplus'(z) = sigma(z)."""

    latex_name = r"\operatorname{softplus}"
    nargs = 1

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    @classmethod
    def definition(cls, z):
        return log(1 + exp(z))


# ---------------------------------------------------------------- identity: a = z

_add(ActivationRecord("identity", None, arity=(1, 1), latex="", layer_name="Identity", in_node_files=False,
                      unit=lambda function, nets, j, alpha: nets[j - 1], kind="identity"))


# ---------------------------------------------------------------- softmax

def _softmax_scalar(lib):
    def softmax(k, *z):
        # shifted by the largest logit, so that no exponential overflows
        top = max(z)
        e = [lib.exp(zj - top) for zj in z]
        return e[int(k) - 1] / sum(e)
    return softmax


def _softmax_numpy(k, *z):
    """e^(z_k) / sum_j e^(z_j) (k counts from 1), shifted by max_j z_j so that no exponential overflows."""
    top = functools.reduce(numpy.maximum, z)
    e = [numpy.exp(zj - top) for zj in z]
    return e[int(k) - 1] / sum(e)


@_activation("Softmax", arity=(2, None), scalar=_softmax_scalar, numpy=_softmax_numpy, written_out=True,
             in_node_files=False, kind="softmax",
             unit=lambda function, nets, j, alpha: function(Integer(j), *nets))
class softmax(SympropFunction):
    r"""softmax(k, z_1, ..., z_n) = e^{z_k} / sum_j e^{z_j};
    d softmax_k / d z_j = softmax_k (delta_{kj} - softmax_j).

    The first argument is the 1-based index ``k`` of the output. Not
    elementwise: each output depends on every logit.
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

    def latex_parts(self):
        """The index as a subscript: ``softmax_{k}(z_1, ..., z_n)``."""
        return self.args[0], (self.logits,)


# ---------------------------------------------------------------- silu (Swish with beta = 1)

def _silu_scalar(lib):
    sigma = _sigmoid_scalar(lib)
    return lambda z: z * sigma(z)


def _silu_numpy(z):
    """z sigma(z), sigma from e^(-|z|) so that no exponential overflows."""
    e = numpy.exp(-numpy.abs(z))
    return z * numpy.where(numpy.greater_equal(z, 0), 1 / (1 + e), e / (1 + e))


@_activation("SiLU", scalar=_silu_scalar, numpy=_silu_numpy)
class silu(Activation):
    r"""silu(z) = z sigma(z) (Swish with beta = 1);  silu'(z) = sigma(z) (1 + z (1 - sigma(z))).

    The derivative is the product rule on ``z sigma(z)`` with ``sigma' = sigma (1 - sigma)``:
    ``sigma(z) + z sigma(z)(1 - sigma(z))``, written in the forward quantity ``sigma(z)``.
    """

    latex_name = r"\operatorname{SiLU}"
    nargs = 1

    def fdiff(self, argindex=1):
        z = self.args[0]
        return sigmoid(z) * (1 + z * (1 - sigmoid(z)))

    @classmethod
    def definition(cls, z):
        return z / (1 + exp(-z))

    @classmethod
    def eval(cls, z):
        if z is S.Zero:
            return S.Zero
