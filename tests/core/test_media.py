"""Photos: the Pillow pipeline, the media service's access rule, and the routes serving them.

Every image is made here with Pillow; nothing binary is committed.
"""

from __future__ import annotations

import hashlib
import io
import random
import struct
import warnings
import zlib
from pathlib import Path
from typing import Any, get_type_hints

import pytest
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from core.clock import FakeClock
from core.errors import Invalid, NotFound, PayloadTooLarge, Problem, handle_http_exception
from core.http import UnsupportedMediaType
from core.identity.access import Principal
from core.identity.models import Organization, Role, User
from core.media import pipeline
from core.media.models import Media
from core.media.pipeline import process_image
from core.media.services import MediaService
from core.plugin import PluginContext
from core.registry import PluginRegistry
from core.settings import ConfigError, Settings, load_settings
from tests.conftest import TEST_SECRET, World, base_settings, run_in_database
from tests.support import Api

PROBLEM = "urn:minori:problem:"
RED = (220, 20, 20)
WHITE = (255, 255, 255)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """This module's app and services keep photos in a temporary directory."""
    return base_settings(database_url, media_dir=str(tmp_path / "media"))


# --- images made on the spot -------------------------------------------------------------


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def jpeg(
    size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = RED, **options: Any
) -> bytes:
    return encode(Image.new("RGB", size, color), "JPEG", quality=95, **options)


def noisy_jpeg(size: tuple[int, int] = (256, 256)) -> bytes:
    return encode(Image.effect_noise(size, 64).convert("RGB"), "JPEG", quality=95)


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def exif_with_gps(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (35.0, 41.0, 22.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (139.0, 41.0, 30.0)
    return exif


XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>secret-xmp</rdf:RDF></x:xmpmeta>'


def png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of ``width x height`` blank pixels: a few kB that would decode to
    hundreds of MB."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    row = b"\x00" + bytes((width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def frames() -> list[Image.Image]:
    return [Image.new("RGB", (32, 32), color) for color in (RED, (20, 20, 220), (20, 220, 20))]


def rejected(data: bytes, **limits: Any) -> dict[str, Any]:
    """The problem document the pipeline's refusal of ``data`` renders to."""
    with pytest.raises(Problem) as refused:
        process_image(data, **limits)
    response = handle_http_exception(None, refused.value)  # type: ignore[arg-type]
    body: dict[str, Any] = response.content
    assert body["status"] == response.status_code
    assert body["title"] and body["detail"]
    return body


def close(pixel: Any, expected: tuple[int, ...], tolerance: int = 30) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=False))


# --- the pipeline refuses --------------------------------------------------------------------


def test_a_payload_over_15_mib_is_413_before_anything_is_parsed() -> None:
    body = rejected(b"\xff\xd8\xff" + bytes(30_000_000))
    assert body["status"] == 413
    assert body["type"] == PROBLEM + "payload-too-large"
    assert "15 MiB" in body["detail"]
    # The limit is inclusive and comes from the settings.
    assert rejected(jpeg(), max_bytes=100)["status"] == 413
    assert process_image(jpeg((8, 8)), max_bytes=len(jpeg((8, 8)))).width == 8


def test_bytes_that_are_no_image_are_422_not_decodable() -> None:
    for data in (random.Random(7).randbytes(4096), b"", b"hello, this is text\n" * 50):
        body = rejected(data)
        assert body["status"] == 422
        assert body["type"] == PROBLEM + "image-undecodable"
        assert "not a decodable image" in body["detail"]
        assert body["errors"] == [{"detail": body["detail"], "pointer": "/file"}]


def test_a_truncated_or_corrupt_image_is_422() -> None:
    full = noisy_jpeg()
    assert process_image(full).width == 256
    for broken in (
        full[: len(full) // 2],
        encode(Image.effect_noise((128, 128), 64), "PNG")[:-300],
        encode(Image.effect_noise((128, 128), 64).convert("RGB"), "WEBP")[:-500],
    ):
        body = rejected(broken)
        assert body["status"] == 422
        assert body["type"] == PROBLEM + "image-undecodable"
        assert "truncated or corrupt" in body["detail"]
    # A PNG whose chunk checksums do not match fails verify().
    png = bytearray(encode(Image.new("RGB", (16, 16), RED), "PNG"))
    png[40] ^= 0xFF
    assert rejected(bytes(png))["type"] == PROBLEM + "image-undecodable"


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("TIFF", "TIFF"), ("GIF", "GIF"), ("BMP", "BMP"), ("ICO", "ICO"), ("PPM", "PPM")],
)
def test_an_image_in_another_format_is_415_naming_what_is_accepted(fmt: str, name: str) -> None:
    body = rejected(encode(Image.new("RGB", (32, 32), RED), fmt))
    assert body["status"] == 415
    assert body["type"] == PROBLEM + "unsupported-media-type"
    assert name in body["detail"]
    assert all(label in body["detail"] for label in ("JPEG", "PNG", "WebP"))
    assert body["accepted"] == ["image/jpeg", "image/png", "image/webp"]


def test_the_format_is_judged_by_content_only() -> None:
    # A GIF is refused even though everything around it would say JPEG; the service
    # never sees a file name or a declared type, only bytes.
    with pytest.raises(UnsupportedMediaType):
        process_image(encode(Image.new("RGB", (8, 8)), "GIF"))
    # A PNG with whatever name is a PNG.
    assert process_image(encode(Image.new("RGB", (8, 8)), "PNG")).content_type == "image/png"


@pytest.mark.parametrize("fmt", ["WEBP", "PNG"])
def test_an_animated_image_is_422(fmt: str) -> None:
    first, *rest = frames()
    data = encode(first, fmt, save_all=True, append_images=rest, duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    body = rejected(data)
    assert body["status"] == 422
    assert body["type"] == PROBLEM + "image-animated"
    assert "Animated" in body["detail"]


def test_a_decompression_bomb_is_422_without_decoding_it(monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = png_bomb(20_000, 20_000)  # 400 megapixels, about 50 MB of pixels, in a few kB
    assert len(bomb) < 200_000
    body = rejected(bomb)
    assert body["status"] == 422
    assert body["type"] == PROBLEM + "image-too-many-pixels"
    # Between Pillow's warning and error thresholds (about 89 and 179 MP by default) its
    # warning is caught as well, and leaves the process' warning filters as they were.
    filters = list(warnings.filters)
    assert rejected(png_bomb(10_000, 10_000))["type"] == PROBLEM + "image-too-many-pixels"
    assert warnings.filters == filters
    # Independent of Pillow's global limit: with it switched off, our own check refuses.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    body = rejected(bomb)
    assert body["type"] == PROBLEM + "image-too-many-pixels"
    assert "20000x20000" in body["detail"] and "40 megapixels" in body["detail"]


def test_over_40_megapixels_is_422_even_below_pillows_own_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10**12)
    body = rejected(png_bomb(7_000, 6_000))  # 42 MP
    assert body["status"] == 422
    assert body["type"] == PROBLEM + "image-too-many-pixels"
    assert "7000x6000" in body["detail"]
    # Exactly at the limit passes the pixel check.
    assert process_image(png_bomb(100, 50), max_pixels=5_000).width == 100


# --- the pipeline cleans -------------------------------------------------------------------


def test_exif_orientation_is_applied_and_every_piece_of_metadata_dropped() -> None:
    # Stored 40 wide and 20 high, its top-left corner red; Orientation 6 means "turn 90°
    # clockwise to view": upright it is 20 wide, 40 high, with the red corner top right.
    stored = Image.new("RGB", (40, 20), WHITE)
    stored.paste(RED, (0, 0, 10, 10))
    source = encode(
        stored,
        "JPEG",
        quality=95,
        exif=exif_with_gps(orientation=6),
        xmp=XMP,
        icc_profile=srgb_icc(),
        comment=b"secret comment",
    )
    before = Image.open(io.BytesIO(source))
    assert before.getexif().get_ifd(ExifTags.IFD.GPSInfo), "the fixture must carry GPS"
    assert before.getexif()[ExifTags.Base.Orientation] == 6

    result = process_image(source)

    assert (result.width, result.height) == (20, 40)
    out = Image.open(io.BytesIO(result.data))
    assert out.format == "JPEG" and out.size == (20, 40)
    assert not out.getexif()
    assert not {"exif", "xmp", "icc_profile", "comment"} & set(out.info)
    for secret in (b"Exif\x00\x00", b"SecretCam", b"secret-xmp", b"secret comment", b"ICC_PROFILE"):
        assert secret not in result.data
    rgb = out.convert("RGB")
    assert close(rgb.getpixel((15, 4)), RED)
    assert close(rgb.getpixel((4, 4)), WHITE)
    assert close(rgb.getpixel((15, 35)), WHITE)
    thumbnail = Image.open(io.BytesIO(result.thumbnail))
    assert thumbnail.size == (20, 40) and not thumbnail.getexif()
    assert b"Exif\x00\x00" not in result.thumbnail


def test_png_stays_png_with_its_transparency_and_without_its_metadata() -> None:
    image = Image.new("RGBA", (50, 30), (*RED, 255))
    image.paste((0, 0, 0, 0), (0, 0, 25, 30))
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "secret text chunk")
    text.add_itxt("XML:com.adobe.xmp", XMP.decode())
    source = encode(image, "PNG", pnginfo=text, exif=exif_with_gps(), icc_profile=srgb_icc())
    assert Image.open(io.BytesIO(source)).getexif()

    result = process_image(source)

    assert result.content_type == "image/png"
    out = Image.open(io.BytesIO(result.data))
    assert out.format == "PNG" and out.mode == "RGBA"
    assert out.getpixel((5, 5))[3] == 0 and out.getpixel((40, 5)) == (*RED, 255)
    assert not out.getexif()
    assert not {"exif", "icc_profile", "Comment", "XML:com.adobe.xmp", "xmp"} & set(out.info)
    for secret in (b"secret", b"SecretCam", b"eXIf", b"iCCP", b"tEXt", b"iTXt"):
        assert secret not in result.data
    assert Image.open(io.BytesIO(result.thumbnail)).format == "PNG"


def test_webp_stays_webp_without_its_metadata() -> None:
    image = Image.new("RGB", (60, 40), RED)
    source = encode(image, "WEBP", exif=exif_with_gps(), xmp=XMP, icc_profile=srgb_icc())
    assert Image.open(io.BytesIO(source)).getexif()

    result = process_image(source)

    assert result.content_type == "image/webp"
    out = Image.open(io.BytesIO(result.data))
    assert out.format == "WEBP" and out.size == (60, 40)
    assert not out.getexif()
    assert not {"exif", "xmp", "icc_profile"} & set(out.info)
    for secret in (b"EXIF", b"XMP ", b"ICCP", b"SecretCam", b"secret-xmp"):
        assert secret not in result.data
    assert close(out.convert("RGB").getpixel((30, 20)), RED)
    assert Image.open(io.BytesIO(result.thumbnail)).format == "WEBP"


def test_a_cmyk_jpeg_becomes_rgb_and_a_palette_png_keeps_its_transparency() -> None:
    cmyk = encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG")
    out = Image.open(io.BytesIO(process_image(cmyk).data))
    assert out.mode == "RGB" and close(out.getpixel((8, 8)), (255, 0, 0), 40)

    palette = Image.new("P", (16, 16), 1)
    palette.putpalette([0, 0, 0, *RED] + [0] * 762)
    palette.paste(0, (0, 0, 8, 16))
    result = process_image(encode(palette, "PNG", transparency=0))
    out = Image.open(io.BytesIO(result.data))
    assert out.mode == "RGBA"
    assert out.getpixel((2, 2))[3] == 0 and out.getpixel((12, 2)) == (*RED, 255)


def test_a_jpeg_with_extra_pictures_counts_as_jpeg_and_keeps_its_first() -> None:
    # Multi-Picture JPEG (stereo pairs, the gain map of an Ultra HDR photo): Pillow calls it MPO.
    first, second, _ = frames()
    source = encode(first, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(source)).format == "MPO"
    result = process_image(source)
    out = Image.open(io.BytesIO(result.data))
    assert out.format == "JPEG" and getattr(out, "n_frames", 1) == 1
    assert close(out.convert("RGB").getpixel((16, 16)), RED)


def test_the_thumbnail_has_at_most_320_px_on_its_longest_side() -> None:
    result = process_image(jpeg((1000, 600)))
    assert (result.width, result.height) == (1000, 600)
    assert (result.thumbnail_width, result.thumbnail_height) == (320, 192)
    assert Image.open(io.BytesIO(result.thumbnail)).size == (320, 192)
    tall = process_image(encode(Image.new("RGB", (300, 900)), "PNG"))
    assert (tall.thumbnail_width, tall.thumbnail_height) == (107, 320)
    small = process_image(jpeg((100, 50)))
    assert (small.thumbnail_width, small.thumbnail_height) == (100, 50)  # never enlarged


def test_jpeg_is_reencoded_at_quality_85() -> None:
    result = process_image(noisy_jpeg((512, 512)))
    reencoded = encode(
        Image.open(io.BytesIO(noisy_jpeg((512, 512)))), "JPEG", quality=85, optimize=True
    )
    # Same quantisation tables as Pillow's quality 85.
    out = Image.open(io.BytesIO(result.data))
    assert out.quantization == Image.open(io.BytesIO(reencoded)).quantization


# --- the service: storage, location, attachment and access -------------------------------


def who(world: World, username: str, role: Role = Role.MEMBER, *orgs: str) -> Principal:
    return Principal(world.user_ids[username], role, frozenset(world.org_ids[o] for o in orgs))


def stored_files(settings: Settings) -> list[Path]:
    return sorted(p for p in Path(settings.media_dir).rglob("*") if p.is_file())


async def test_upload_answers_the_photo_and_identical_uploads_share_one_file(
    settings: Settings, world: World
) -> None:
    farmer = who(world, "farmer", Role.MEMBER, "farm")
    fisher = who(world, "fisher", Role.MEMBER, "fishery")
    service = MediaService(settings)
    data = jpeg((640, 480))

    async def work() -> None:
        first = await service.upload(farmer, data)
        again = await service.upload(fisher, data)
        assert first.id != again.id
        assert (first.width, first.height) == (640, 480)
        assert first.url == f"/api/v1/media/{first.id}"
        assert first.thumbnail_url == f"/api/v1/media/{first.id}/thumbnail"
        assert first.location is None
        rows = await Media.filter(id__in=[first.id, again.id])
        assert {r.sha256 for r in rows} == {rows[0].sha256}
        row = rows[0]
        assert row.content_type == "image/jpeg" and row.organization_id is None
        files = stored_files(settings)
        assert [f.name for f in files] == sorted(
            [f"{row.sha256}.jpg", f"{row.thumbnail_sha256}.jpg"]
        )
        main = next(f for f in files if f.name.startswith(row.sha256))
        assert main.parent == Path(settings.media_dir) / row.sha256[:2] / row.sha256[2:4]
        assert hashlib.sha256(main.read_bytes()).hexdigest() == row.sha256
        assert row.size == main.stat().st_size

    await run_in_database(settings, work)


async def test_location_is_kept_only_when_sent_and_checked(
    settings: Settings, world: World
) -> None:
    farmer = who(world, "farmer", Role.MEMBER, "farm")
    service = MediaService(settings)

    async def work() -> None:
        placed = await service.upload(farmer, jpeg(), "35.6812, 139.7671")
        assert placed.location is not None
        assert (placed.location.lat, placed.location.lon) == (35.6812, 139.7671)
        row = await Media.get(id=placed.id)
        assert (row.latitude, row.longitude) == (35.6812, 139.7671)
        assert (await service.upload(farmer, jpeg(), "-90,180")).location is not None
        for unsent in (None, "", "  "):
            assert (await service.upload(farmer, jpeg(), unsent)).location is None
        count = await Media.all().count()
        for bad in ("35.6", "abc,def", "1,2,3", "91,0", "-90.5,0", "0,180.01", "nan,0", "1e2,3"):
            with pytest.raises(Invalid) as refused:
                await service.upload(farmer, jpeg(), bad)
            assert refused.value.status_code == 422
            assert refused.value.errors is not None
            assert refused.value.errors[0].pointer == "/location", bad
        assert await Media.all().count() == count  # nothing recorded for a refused upload

    await run_in_database(settings, work)


async def test_a_refused_upload_stores_nothing(settings: Settings, world: World) -> None:
    farmer = who(world, "farmer", Role.MEMBER, "farm")
    service = MediaService(settings)

    async def work() -> None:
        with pytest.raises(PayloadTooLarge):
            await service.upload(farmer, bytes(settings.max_upload_bytes + 1))
        with pytest.raises(UnsupportedMediaType):
            await service.upload(farmer, encode(Image.new("RGB", (8, 8)), "GIF"))
        with pytest.raises(pipeline.ImageUndecodable):
            await service.upload(farmer, noisy_jpeg()[:3000])
        assert await Media.all().count() == 0
        assert stored_files(settings) == []

    await run_in_database(settings, work)


async def test_before_attachment_only_the_uploader_reads(settings: Settings, world: World) -> None:
    farmer = who(world, "farmer", Role.MEMBER, "farm")
    service = MediaService(settings)

    async def work() -> None:
        photo = await service.upload(farmer, jpeg((400, 300)))
        found = await service.read(farmer, photo.id)
        assert found.content_type == "image/jpeg"
        assert hashlib.sha256(found.data).hexdigest() == found.sha256
        thumbnail = await service.read(farmer, photo.id, thumbnail=True)
        assert Image.open(io.BytesIO(thumbnail.data)).size == (320, 240)
        others = [
            who(world, "fisher", Role.MEMBER, "fishery"),
            who(world, "advisor", Role.ADVISOR),
            who(world, "admin", Role.ADMIN),
            # even a member of the uploader's own organization: nothing claimed it yet
            Principal(world.user_ids["fisher"], Role.MEMBER, frozenset({world.org_ids["farm"]})),
        ]
        for other in others:
            for thumb in (False, True):
                with pytest.raises(NotFound) as refused:
                    await service.read(other, photo.id, thumbnail=thumb)
                assert refused.value.detail == f"No media with id {photo.id}."

    await run_in_database(settings, work)


async def test_after_attachment_whoever_sees_the_organization_reads(
    settings: Settings, world: World
) -> None:
    farmer = who(world, "farmer", Role.MEMBER, "farm")
    fisher = who(world, "fisher", Role.MEMBER, "fishery")
    advisor = who(world, "advisor", Role.ADVISOR)
    admin = who(world, "admin", Role.ADMIN)
    service = MediaService(settings)
    farm = world.org_ids["farm"]

    async def work() -> None:
        farmhand = await User.create(username="farmhand", password_hash="-", role=Role.MEMBER)
        await farmhand.organizations.add(await Organization.get(id=farm))
        hand = Principal(str(farmhand.id), Role.MEMBER, frozenset({farm}))
        photo = await service.upload(farmer, jpeg())
        with pytest.raises(NotFound):
            await service.read(hand, photo.id)

        attached = await service.attach(photo.id, farmer, "livestock.animal", "cow-7", farm)
        assert attached == photo
        row = await Media.get(id=photo.id)
        assert (str(row.organization_id), row.attached_kind, row.attached_id) == (
            farm,
            "livestock.animal",
            "cow-7",
        )
        for reader in (farmer, hand, admin):
            assert (await service.read(reader, photo.id)).data
            assert (await service.read(reader, photo.id, thumbnail=True)).data
        with pytest.raises(NotFound):
            await service.read(fisher, photo.id)
        # The farm has not consented to share with advisors ...
        with pytest.raises(NotFound):
            await service.read(advisor, photo.id)
        # ... until it does.
        await Organization.filter(id=farm).update(share_with_advisors=True)
        assert (await service.read(advisor, photo.id)).data
        assert (await service.get(advisor, photo.id)) == photo

        # A photo attached to the fishery, which shares, is the fisher's and the advisor's.
        catch = await service.upload(fisher, jpeg())
        await service.attach(catch.id, fisher, "red_tide.sample", "s-1", world.org_ids["fishery"])
        assert (await service.read(advisor, catch.id)).data
        with pytest.raises(NotFound):
            await service.read(farmer, catch.id)

    await run_in_database(settings, work)


async def test_attach_claims_only_the_callers_own_unattached_photo(
    settings: Settings, world: World
) -> None:
    farmer = who(world, "farmer", Role.MEMBER, "farm")
    fisher = who(world, "fisher", Role.MEMBER, "fishery")
    service = MediaService(settings)
    farm = world.org_ids["farm"]

    async def refused(media_id: str, principal: Principal, object_id: str) -> str:
        with pytest.raises(Invalid) as caught:
            await service.attach(
                media_id, principal, "hello.greeting", object_id, farm, pointer="/photo_id"
            )
        assert caught.value.errors is not None
        assert caught.value.errors[0].pointer == "/photo_id"
        return caught.value.errors[0].detail

    async def work() -> None:
        photo = await service.upload(farmer, jpeg())
        # Another user's photo, an unknown id and a malformed one: the same answer.
        details = {
            await refused(photo.id, fisher, "g-1"),
            await refused("00000000-0000-4000-8000-000000000000", farmer, "g-1"),
            await refused("not-an-id", farmer, "g-1"),
        }
        assert details == {"unknown or not accessible"}

        first = await service.attach(photo.id, farmer, "hello.greeting", "g-1", farm)
        again = await service.attach(photo.id, farmer, "hello.greeting", "g-1", farm)
        assert first == again  # idempotent
        assert "already attached" in await refused(photo.id, farmer, "g-2")
        row = await Media.get(id=photo.id)
        assert row.attached_id == "g-1"

    await run_in_database(settings, work)


async def test_plugins_get_the_media_service_through_their_context(
    settings: Settings, clock: FakeClock
) -> None:
    services = PluginRegistry.load(settings, clock).services
    assert isinstance(services.media, MediaService)
    context = PluginContext.build(services, "example", None)
    assert context.media is services.media
    # Litestar (through msgspec) resolves the context's annotations to inject it as ``ctx``.
    assert get_type_hints(PluginContext)["media"] is MediaService


# --- the routes --------------------------------------------------------------------------


async def seed_photo(settings: Settings, world: World, *, attach: bool) -> str:
    farmer = who(world, "farmer", Role.MEMBER, "farm")
    service = MediaService(settings)

    async def work() -> str:
        photo = await service.upload(farmer, jpeg((800, 600)), "35.0,139.0")
        if attach:
            await service.attach(photo.id, farmer, "hello.greeting", "g-1", world.org_ids["farm"])
        return photo.id

    return await run_in_database(settings, work)


async def test_the_routes_serve_the_photo_and_its_thumbnail_to_the_uploader(
    api: Api, settings: Settings, world: World
) -> None:
    media_id = await seed_photo(settings, world, attach=False)

    photo = await api.get(f"/api/v1/media/{media_id}", as_="farmer")
    assert photo.status_code == 200, photo.text
    assert photo.headers["content-type"] == "image/jpeg"
    assert photo.headers["cache-control"] == "private, max-age=31536000, immutable"
    assert photo.headers["etag"] == f'"{hashlib.sha256(photo.content).hexdigest()}"'
    assert Image.open(io.BytesIO(photo.content)).size == (800, 600)

    thumbnail = await api.get(f"/api/v1/media/{media_id}/thumbnail", as_="farmer")
    assert thumbnail.status_code == 200
    assert thumbnail.headers["content-type"] == "image/jpeg"
    assert thumbnail.headers["etag"] == f'"{hashlib.sha256(thumbnail.content).hexdigest()}"'
    assert Image.open(io.BytesIO(thumbnail.content)).size == (320, 240)

    cached = await api.get(
        f"/api/v1/media/{media_id}",
        as_="farmer",
        headers={"If-None-Match": photo.headers["etag"]},
    )
    assert cached.status_code == 304 and cached.content == b""
    assert cached.headers["etag"] == photo.headers["etag"]


async def test_the_routes_answer_404_like_an_unknown_id_to_everyone_else(
    api: Api, settings: Settings, world: World
) -> None:
    private = await seed_photo(settings, world, attach=False)
    attached = await seed_photo(settings, world, attach=True)
    unknown = "00000000-0000-4000-8000-000000000000"

    def problem(response: Any) -> dict[str, Any]:
        assert response.status_code == 404, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        body: dict[str, Any] = response.json()
        assert body["type"] == PROBLEM + "not-found"
        return body

    for suffix in ("", "/thumbnail"):
        stranger = problem(await api.get(f"/api/v1/media/{attached}{suffix}", as_="fisher"))
        nobody = problem(await api.get(f"/api/v1/media/{unknown}{suffix}", as_="fisher"))
        assert stranger["title"] == nobody["title"]
        assert stranger["detail"] == nobody["detail"].replace(unknown, attached)
        problem(await api.get(f"/api/v1/media/{private}{suffix}", as_="admin"))
        problem(await api.get(f"/api/v1/media/{attached}{suffix}", as_="advisor"))
        problem(await api.get(f"/api/v1/media/not-an-id{suffix}", as_="farmer"))
        assert (await api.get(f"/api/v1/media/{attached}{suffix}", as_="admin")).status_code == 200
        anonymous = await api.get(f"/api/v1/media/{attached}{suffix}")
        assert anonymous.status_code == 401


async def test_the_openapi_document_describes_the_media_routes(api: Api) -> None:
    paths = (await api.get("/schema/openapi.json")).json()["paths"]
    for path in ("/api/v1/media/{media_id}", "/api/v1/media/{media_id}/thumbnail"):
        operation = paths[path]["get"]
        assert operation["security"] == [{"BearerToken": []}]
        assert {"200", "401", "404"} <= set(operation["responses"])


@pytest.mark.parametrize(
    ("value", "accepted"),
    [("1048576", True), ("15728640", True), ("15728641", False), ("0", False)],
)
def test_the_upload_limit_setting_can_only_narrow_the_apis_15_mib(
    value: str, accepted: bool
) -> None:
    environ = {"MINORI_MAX_UPLOAD_BYTES": value}
    if accepted:
        assert load_settings(
            environ, secret_key=TEST_SECRET, plugins={}, facades={}
        ).max_upload_bytes == int(value)
        return
    with pytest.raises(ConfigError) as raised:
        load_settings(environ, secret_key=TEST_SECRET, plugins={}, facades={})
    assert str(raised.value) == (
        f"MINORI_MAX_UPLOAD_BYTES: between 1 and 15728640 (15 MiB, the API's limit), got {value}"
    )
