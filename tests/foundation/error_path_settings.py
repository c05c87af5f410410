"""Test settings of tests/foundation/test_error_path.py: the suite's settings, plus a few
views that raise what no public endpoint can be made to raise on purpose."""

from trava.settings_test import *  # noqa: F403

ROOT_URLCONF = "tests.foundation.error_path_urls"
