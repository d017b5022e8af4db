"""errors.py: the package's own bad-input errors are one family; nothing else is."""

from pmtgain.errors import CampaignError, InputError, MixedLists, TrcError, UserError


def test_every_bad_input_error_of_the_package_is_an_input_error():
    for cls in (CampaignError, UserError, MixedLists, TrcError):
        assert issubclass(cls, InputError), cls
    assert issubclass(InputError, ValueError)  # callers that catch ValueError still do
    assert not issubclass(ValueError, InputError)  # numpy's ValueError is not bad input
