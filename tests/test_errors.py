"""Every error symprop defines derives from SympropError, keeping its built-in base."""
import importlib
import inspect
import pkgutil

import pytest

import symprop
from symprop.errors import FailedCheck, SympropError


def symprop_modules():
    names = [info.name for info in pkgutil.walk_packages(symprop.__path__, "symprop.")
             if info.name != "symprop.__main__"]  # importing it runs the command
    return [importlib.import_module(name) for name in ["symprop", *names]]


def defined_exceptions():
    """Each Exception subclass defined (not just imported) in a symprop module."""
    return {
        cls for module in symprop_modules() for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, Exception) and cls.__module__ == module.__name__
    }


def test_the_walk_finds_the_errors_of_every_stage():
    names = {cls.__name__ for cls in defined_exceptions()}
    assert names >= {"GraphError", "NetworkError", "NotationError", "SpecError", "ExpressionError", "NumericError",
                     "GradientCheckError", "MatrixFormError", "ClaimError", "ExportError"}


@pytest.mark.parametrize("cls", sorted(defined_exceptions(), key=lambda cls: cls.__qualname__), ids=lambda c: c.__name__)
def test_every_error_symprop_defines_is_a_symprop_error(cls):
    assert issubclass(cls, SympropError)


def test_errors_keep_their_builtin_base():
    from symprop.layers.matrix_proof import MatrixFormError
    from symprop.model.graph import GraphError
    from symprop.numbers.gradcheck import GradientCheckError

    assert issubclass(GraphError, ValueError) and issubclass(MatrixFormError, AssertionError)
    assert issubclass(GradientCheckError, ValueError)


def test_failed_checks_are_the_check_errors():
    failed = {cls.__name__ for cls in defined_exceptions() if issubclass(cls, FailedCheck)}
    assert failed == {"FailedCheck", "GradientCheckError", "MatrixFormError"}


def test_the_base_is_exported_from_the_top():
    assert (symprop.SympropError, symprop.FailedCheck) == (SympropError, FailedCheck)


def test_the_public_api_is_importable_from_symprop_itself():
    import symprop
    from symprop.checks import backward_check, claims
    from symprop.engine import backprop

    assert symprop.check_backward is backward_check.check_backward
    assert symprop.assert_backward is backward_check.assert_backward
    assert symprop.check_claim is claims.check_claim and symprop.derive is backprop.derive
    for name in symprop.__all__:
        assert getattr(symprop, name) is not None


def test_wrong_argument_says_what_was_given_and_what_was_expected():
    from symprop.errors import WrongArgument, given

    error = WrongArgument("derive", "a Graph", ["x"], "build one")
    assert isinstance(error, SympropError) and isinstance(error, TypeError)
    assert str(error) == "derive expects a Graph, got a list: build one"
    assert str(WrongArgument("f", "a Graph", None)) == "f expects a Graph, got None"
    assert given(3) == "an int" and given(1.5) == "a float"
    assert given("x\ny") == "the string 'x\\ny'"
    assert given("a" * 50) == "the string '" + "a" * 37 + "...'"


def test_wrong_argument_and_name_clash_survive_pickling():
    import pickle

    from symprop.errors import WrongArgument
    from symprop.model.nn import NameClash

    error = pickle.loads(pickle.dumps(WrongArgument("derive", "a Graph", lambda: 1)))
    assert (type(error), str(error), error.function) == (WrongArgument, "derive expects a Graph, got a function", "derive")
    clash = pickle.loads(pickle.dumps(NameClash("x", "input 1", "target 1")))
    assert (str(clash), clash.places) == ("the name 'x' is both input 1 and target 1: use distinct names",
                                          ("input 1", "target 1"))
