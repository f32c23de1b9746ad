"""``/mobile/v1``: the API shaped for the farmers', fishers' and hunters' phone app."""

from __future__ import annotations

from core.plugin import Facade

facade = Facade(name="mobile", path="/mobile/v1", routes=[])
