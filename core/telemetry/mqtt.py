"""The MQTT consumer: ``minori/<organization id>/<device id>/up`` into the one ingest path.

At least once, never lost: a persistent session at QoS 1, and each message acknowledged
only after its readings are committed (paho's manual ack), in the order received. Redelivered
messages are harmless because readings are deduplicated on their ids. Messages that cannot be
used are kept in the dead-letter table with the reason.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager
from urllib.parse import urlsplit

import aiomqtt

from core.errors import Problem
from core.telemetry.devices import Caller
from core.telemetry.ingest import Ingestor, decode_message
from core.telemetry.models import DeadLetter

log = logging.getLogger("minori.telemetry.mqtt")

TOPIC = "minori/+/+/up"
MAX_IN_FLIGHT = 256
BACKOFF_MAX_S = 30.0


class MQTTConsumer:
    def __init__(
        self,
        url: str,
        ingestor: Ingestor,
        bind: Callable[[], AbstractContextManager[object]],
        client_id: str | None = None,
        share_group: str = "minori",
    ) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 1883
        self.username = parts.username
        self.password = parts.password
        self.ingestor = ingestor
        self.bind = bind
        self.client_id = client_id or f"minori-{socket.gethostname()}"
        # Replicas share the stream: the broker gives each message to one of them.
        self.topic = f"$share/{share_group}/{TOPIC}"
        self.state = "connecting"
        self.received = 0
        self.acknowledged = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="mqtt-consumer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.state = "stopped"

    async def _run(self) -> None:
        delay = 0.5
        while True:
            try:
                await self._consume()
            except aiomqtt.MqttError as exc:
                self.state = f"error: {exc}"
                log.warning("MQTT connection lost (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX_S)
            else:
                delay = 0.5

    async def _consume(self) -> None:
        client = aiomqtt.Client(
            self.host,
            self.port,
            username=self.username,
            password=self.password,
            identifier=self.client_id,
            clean_session=False,
        )
        # aiomqtt has no switch for it: tell paho not to acknowledge on receipt.
        client._client.manual_ack_set(True)
        async with client:
            await client.subscribe(self.topic, qos=1)
            self.state = "ok"
            log.info("consuming MQTT %s as %s", self.topic, self.client_id)
            pending: deque[tuple[aiomqtt.Message, asyncio.Task[None]]] = deque()
            progress = asyncio.Event()
            acker = asyncio.create_task(self._acknowledge(client, pending, progress))
            try:
                async for message in client.messages:
                    if len(pending) >= MAX_IN_FLIGHT:
                        await asyncio.wait([pending[0][1]])
                    self.received += 1
                    task = asyncio.create_task(self._handle(message))
                    task.add_done_callback(lambda _task: progress.set())
                    pending.append((message, task))
            finally:
                acker.cancel()
                for _message, task in pending:
                    task.cancel()

    async def _acknowledge(
        self,
        client: aiomqtt.Client,
        pending: deque[tuple[aiomqtt.Message, asyncio.Task[None]]],
        progress: asyncio.Event,
    ) -> None:
        """Acknowledge finished messages in the order they arrived (MQTT wants PUBACKs in
        order); a message whose handling failed stays unacknowledged and comes back when
        the session resumes."""
        while True:
            await progress.wait()
            progress.clear()
            while pending and pending[0][1].done():
                message, task = pending.popleft()
                if task.cancelled() or task.exception() is not None:
                    continue
                client._client.ack(message.mid, message.qos)
                self.acknowledged += 1

    async def _handle(self, message: aiomqtt.Message) -> None:
        for attempt in range(3):
            try:
                await self._handle_once(message)
                return
            except Exception:
                log.exception("handling an MQTT message failed (attempt %d)", attempt + 1)
                await asyncio.sleep(0.5 * 2**attempt)
        raise RuntimeError("giving up on an MQTT message; it stays unacknowledged")

    async def _handle_once(self, message: aiomqtt.Message) -> None:
        topic = str(message.topic)
        payload = (
            message.payload if isinstance(message.payload, bytes) else str(message.payload).encode()
        )
        with self.bind():
            device = await self._device_of(topic)
            if isinstance(device, str):
                await _dead_letter(topic, payload, device)
                return
            try:
                items = decode_message(payload)
            except Problem as exc:
                await _dead_letter(topic, payload, exc.detail)
                return
            result = await self.ingestor.ingest(device, items, topic_device=device.id)
            if result.rejected:
                reasons = "; ".join(f"item {r.index}: {r.detail}" for r in result.rejected)
                await _dead_letter(topic, payload, reasons)

    async def _device_of(self, topic: str) -> Caller | str:
        """The device named by the topic, as the caller, or why the topic is unusable."""
        parts = topic.split("/")
        if len(parts) != 4:
            return "topic is not minori/<organization id>/<device id>/up"
        try:
            organization_id, device_id = uuid.UUID(parts[1]), uuid.UUID(parts[2])
        except ValueError:
            return "topic does not name an organization id and a device id"
        device = await self.ingestor.devices.device(device_id)
        if device is None or device.revoked or device.organization_id != organization_id:
            return "unknown or revoked device for this organization"
        return Caller("device", device.id, device.organization_id)


async def _dead_letter(topic: str, payload: bytes, reason: str) -> None:
    await DeadLetter.create(
        topic=topic[:300], payload=payload.decode("utf-8", errors="replace"), reason=reason
    )
    log.warning("dead-lettered a message on %s: %s", topic, reason)
