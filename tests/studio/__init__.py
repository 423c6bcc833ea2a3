"""The studio (`comicc preview`): its server (test_server_*) and, in a real
headless Chromium, its pages (test_browser_*; fixtures in conftest.py).

A package so that this conftest.py and tests/conftest.py are two modules to mypy.
"""
