"""``/mobile/v1``: the API shaped for the farmers', fishers' and hunters' phone app.

One round trip for the home screen (cards from core and every plugin's ``feed``), the inbox,
push-token registration, delta sync for offline use (every plugin's ``sync``), photo upload,
and an app version gate in front of all of it. It reaches plugins only through the registry.
"""

from __future__ import annotations

from litestar import Router
from litestar.params import HeaderParameter

from core.plugin import Facade
from mobile_api.controllers import MobileController
from mobile_api.version import _SEMVER, HEADER, AppVersionGate

router = Router(
    path="/",
    route_handlers=[MobileController],
    middleware=[AppVersionGate()],
    parameters={
        "x_app_version": HeaderParameter(
            annotation=str,
            name=HEADER,
            required=False,
            pattern=_SEMVER.pattern,
            description=(
                "The app's semantic version. Below the oldest version served the answer is "
                "426 with `min_version` and `store_url`; a malformed one answers 422."
            ),
        )
    },
    opt={"problems": [422, 426]},
)

facade = Facade(name="mobile", path="/mobile/v1", routes=[router])
