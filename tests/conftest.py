"""Shared test configuration.

Hypothesis profiles: `ci` (default, fast) and `deep` (many more examples):
    HYPOTHESIS_PROFILE=deep .venv/bin/python -m pytest tests/test_fmt_properties.py
and `fuzz`, a middle size for the subprocess fuzz test of the command line
(tests/cli/test_fuzz_cli.py, which sizes its own `ci` and `deep` budgets; see
its docstring): 150 examples a test, with the same health checks off.
"""

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from comicc.collector import collector_off as no_cycles_collected

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "deep",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def collector_off() -> Iterator[None]:
    """The test body with the cyclic garbage collector off (after one collection),
    so what it leaves in a reference cycle stays to be found by ``gc.collect()``."""
    gc.collect()
    with no_cycles_collected():
        yield
