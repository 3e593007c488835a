"""Receivers whose answer breaks off after its status line: the status is the answer."""

import socket
import threading

import pytest

from webhooks import services
from webhooks.delivery import delivery_attempt
from webhooks.models import DeliveryStatus, EventType, WebhookDelivery

pytestmark = pytest.mark.django_db


class CutShort:
    """A receiver that sends its status line and headers, promises a body of 100 bytes,
    sends 2 and closes the connection (a proxy or a crashed handler can do that)."""

    def __init__(self, status: int):
        self.requests = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hooks"
        head = f"HTTP/1.1 {status} X\r\nContent-Length: 100\r\nConnection: close\r\n\r\nok"
        self.answer = head.encode()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(
                    next(
                        line.split(b":", 1)[1]
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    )
                )
                while len(body) < length:
                    body += conn.recv(65536)
                self.requests += 1
                conn.sendall(self.answer)

    def stop(self):
        self.sock.close()


@pytest.fixture
def cut_short(request):
    server = CutShort(request.param)
    yield server
    server.stop()


@pytest.mark.parametrize("cut_short", [200], indirect=True)
def test_a_2xx_whose_body_breaks_off_is_delivered(tenant, cut_short):
    # The receiver took the event and said so; its body is only read for the log. The attempt
    # used to crash there: no attempt logged, the delivery pending, and the sweeper sending
    # the same event again every minute, without end.
    services.endpoint_create(url=cut_short.url)
    event = services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={})
    delivery = event.deliveries.get()

    outcome = delivery_attempt(delivery_id=str(delivery.pk))

    delivery = WebhookDelivery.objects.get(pk=delivery.pk)
    assert outcome.status == DeliveryStatus.DELIVERED
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1
    assert [(a.number, a.status_code) for a in delivery.log.all()] == [(1, 200)]
    assert cut_short.requests == 1


@pytest.mark.parametrize("cut_short", [503], indirect=True)
def test_a_5xx_whose_body_breaks_off_is_retried_and_logged(tenant, cut_short):
    services.endpoint_create(url=cut_short.url)
    event = services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={})
    delivery = event.deliveries.get()

    outcome = delivery_attempt(delivery_id=str(delivery.pk))

    delivery = WebhookDelivery.objects.get(pk=delivery.pk)
    assert outcome.status == DeliveryStatus.PENDING
    assert outcome.retry_in is not None
    assert delivery.last_status_code == 503
    assert [(a.number, a.status_code) for a in delivery.log.all()] == [(1, 503)]
