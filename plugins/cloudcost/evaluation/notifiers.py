"""Where alert notices go: the task log (built in, always safe) or a webhook (JSON POST). Pluggable by type."""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Protocol

from cloudcost.config import Notifier

log = logging.getLogger(__name__)


class Notify(Protocol):
    def __call__(self, org: str, alert: dict) -> None: ...


def log_notifier(org: str, alert: dict) -> None:
    log.warning("ALERT %s %s %s: %s", org, alert["severity"], alert["subject"], alert["message"])


def webhook_notifier(url: str, timeout: float = 10.0) -> Notify:
    """POST ``{"org", "alert": {...}}`` as JSON; a failure raises (the evaluation reports it, ingestion is
    unaffected). The URL is configuration, never logged with its query string."""

    def send(org: str, alert: dict) -> None:
        body = json.dumps({"org": org, "alert": alert}, default=str).encode()
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if response.status >= 300:
                raise RuntimeError(f"webhook {url.split('?')[0]} answered {response.status}")

    return send


def build_notifiers(configured: list[Notifier]) -> list[Notify]:
    built: list[Notify] = []
    for notifier in configured:
        if notifier.type == "log":
            built.append(log_notifier)
        elif notifier.type == "webhook" and notifier.url:
            built.append(webhook_notifier(notifier.url))
    return built
