"""What the tenants app tells other apps, without importing them.

`tenant_status_changed(tenant, previous_status)`: a tenant has just moved from
`previous_status` to `tenant.status`. Sent inside the transaction that makes the move, so that
a receiver's writes (the webhooks app records the event the host app receives) commit with the
move or not at all: a change is never lost nor announced without having happened.
"""

from django.dispatch import Signal

tenant_status_changed = Signal()
