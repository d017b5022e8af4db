"""errors.py: the package's own bad-input errors are one family; nothing else is."""

from pmtgain.campaign import CampaignError
from pmtgain.console import UserError
from pmtgain.errors import InputError
from pmtgain.gaincurve import MixedLists
from pmtgain.trc import TrcError


def test_every_bad_input_error_of_the_package_is_an_input_error():
    for cls in (CampaignError, UserError, MixedLists, TrcError):
        assert issubclass(cls, InputError), cls
    assert issubclass(InputError, ValueError)  # callers that catch ValueError still do
    assert not issubclass(ValueError, InputError)  # numpy's ValueError is not bad input
