"""Cards for the app's home screen. Plugins contribute them through their ``feed`` slot:

async def feed(ctx: PluginContext, principal: Principal) -> list[Card]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.i18n import Text


@dataclass(frozen=True, slots=True)
class Card:
    id: str
    """Stable for the same thing (``"sprung:<trap id>"``), so the app can tell cards apart."""
    type: str
    priority: int
    """0 to 100; the home screen shows the highest first."""
    title: Text
    body: Text
    created_at: datetime
    target_kind: str
    """What tapping the card opens: an object kind (``"alert"``, ``"wildlife_traps.trap"``)…"""
    target_id: str
    """… and its id."""
