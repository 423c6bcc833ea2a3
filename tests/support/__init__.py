"""Helpers shared by the test suite (on sys.path through pytest's `pythonpath`)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
DATA = ROOT / "tests" / "data"  # fixture files: corpus scripts, golden layouts, cases
