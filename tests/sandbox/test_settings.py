"""Settings come from SANDBOX_* variables and fail loudly on bad values."""

import pytest

from sandbox.settings import SettingsError, settings_from_env, settings_from_options


def test_it_reads_the_environment():
    settings = settings_from_env(
        {
            "SANDBOX_API_TOKENS": "a, b,,",
            "SANDBOX_CONTROL_TOKEN": "c",
            "SANDBOX_PORT": "9100",
            "SANDBOX_RATE_LIMIT_BURST": "10",
            "SANDBOX_RATE_LIMIT_PER_SECOND": "2.5",
            "SANDBOX_PAGE_SIZE": "7",
            "SANDBOX_JOB_RUN_SECONDS": "0.5",
        }
    )
    assert settings.api_tokens == ("a", "b")
    assert settings.control_token == "c"
    assert settings.port == 9100
    assert settings.rate_limit_burst == 10
    assert settings.rate_limit_per_second == 2.5
    assert settings.page_size == 7
    assert settings.job_run_seconds == 0.5


def test_it_defaults_to_the_service_dev_token():
    settings = settings_from_env({})
    assert settings.api_tokens == ("dev-integrator-token",)
    assert settings.control_token == "dev-sandbox-control"
    assert settings.port == 8100
    assert settings.state_file is not None
    assert settings.state_file.name == "sandbox-state.json"


@pytest.mark.parametrize(
    "environ",
    [
        {"SANDBOX_PORT": "eighty"},
        {"SANDBOX_PORT": "70000"},
        {"SANDBOX_PAGE_SIZE": "0"},
        {"SANDBOX_PAGE_SIZE": "5000"},
        {"SANDBOX_API_TOKENS": " , "},
        {"SANDBOX_RATE_LIMIT_PER_SECOND": "0"},
        {"SANDBOX_PING_FAILURE_STATUS": "99"},
    ],
)
def test_it_refuses_bad_values(environ):
    with pytest.raises(SettingsError):
        settings_from_env(environ)


def test_it_lets_the_command_line_win(monkeypatch):
    monkeypatch.setenv("SANDBOX_PORT", "9100")
    settings = settings_from_options({"port": 9200, "memory": True, "seed": True})
    assert settings.port == 9200
    assert settings.state_file is None
    assert settings.seed is True
