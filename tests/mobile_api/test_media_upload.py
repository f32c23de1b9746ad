"""``POST /mobile/v1/media``: photos through the core Pillow pipeline.

Photos go to the default media folder (as in the other API tests): the media routes' service
is cached across apps in one process (see core/media/controllers.py), so a folder of this
test's own would be read by an earlier app's service."""

from __future__ import annotations

import io

from PIL import Image

from tests.conftest import World
from tests.core.test_media import encode, exif_with_gps, jpeg
from tests.mobile_api.support import MOBILE
from tests.support import Api

MEDIA = f"{MOBILE}/media"


async def upload(api: Api, data: bytes, name: str = "photo.jpg", **form: str) -> object:
    return await api.post(
        MEDIA, as_="farmer", files={"file": (name, data, "image/jpeg")}, data=form or None
    )


async def test_a_photo_is_cleaned_stored_and_served_to_its_uploader(api: Api, world: World) -> None:
    photo = Image.new("RGB", (120, 80), (30, 160, 40))
    data = encode(photo, "JPEG", exif=exif_with_gps(orientation=6).tobytes())
    response = await upload(api, data, location="35.6812,139.7671")
    assert response.status_code == 201, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    media_id = body["id"]
    assert body == {
        "id": media_id,
        "width": 80,  # EXIF orientation 6: turned upright
        "height": 120,
        "url": f"/api/v1/media/{media_id}",
        "thumbnail_url": f"/api/v1/media/{media_id}/thumbnail",
        "location": {"lat": 35.6812, "lon": 139.7671},
    }
    served = await api.get(body["url"], as_="farmer")
    assert served.status_code == 200
    stored = Image.open(io.BytesIO(served.content))
    assert stored.size == (80, 120)
    assert not stored.getexif()  # GPS and the camera are gone; the location is a field
    assert (await api.get(body["thumbnail_url"], as_="farmer")).status_code == 200
    # Not attached to a record yet: its uploader alone sees it.
    assert (await api.get(body["url"], as_="fisher")).status_code == 404

    unplaced = (await upload(api, jpeg())).json()  # type: ignore[attr-defined]
    assert unplaced["location"] is None


async def test_refusals_follow_the_contract(api: Api, world: World) -> None:
    gif = encode(Image.new("RGB", (8, 8)), "GIF")
    cases = [
        (gif, {}, 415, "unsupported-media-type"),
        (b"these bytes are no image", {}, 422, "image-undecodable"),
        (jpeg(), {"location": "north of the barn"}, 422, "validation-failed"),
        (bytes(15 * 1024 * 1024 + 1), {}, 413, "payload-too-large"),
    ]
    for data, form, status, slug in cases:
        response = await upload(api, data, **form)
        assert response.status_code == status, response.text  # type: ignore[attr-defined]
        assert response.json()["type"] == f"urn:minori:problem:{slug}"  # type: ignore[attr-defined]

    far_too_big = await upload(api, bytes(17 * 1024 * 1024))
    assert far_too_big.status_code == 413  # type: ignore[attr-defined]
    as_json = await api.post(MEDIA, as_="farmer", json={"file": "x"})
    assert as_json.status_code == 415
    missing = await api.post(MEDIA, as_="farmer", files={"photo": ("a.jpg", jpeg(), "image/jpeg")})
    assert missing.status_code == 422
