"""How long to wait before trying again: one backoff and one `Retry-After` reader for every
retry the service makes (integrator.io calls, provisioning jobs, webhook deliveries, run
syncs).

Plain Python (no Django), so that the integrator.io client, which knows nothing about Django,
uses the same rules as the rest.
"""

from retry_policy.backoff import Jitter, retry_delay
from retry_policy.retry_after import retry_after_seconds

__all__ = ["Jitter", "retry_after_seconds", "retry_delay"]
