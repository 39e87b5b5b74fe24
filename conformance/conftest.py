"""Load the conformance plugin when ``conformance/`` is collected (``pytest conformance``)."""

from conformance.harness.plugin import pytest_addoption, pytest_cmdline_main, pytest_configure

__all__ = ["pytest_addoption", "pytest_cmdline_main", "pytest_configure"]
