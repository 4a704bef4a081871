"""Image decoding and validation: every bad input becomes a specific ProctorError."""

from __future__ import annotations

import base64
import io

import cv2
import numpy as np
import pytest
from PIL import Image

from proctor.errors import (
    EmptyUploadError,
    ImageTooLargeError,
    InvalidBase64Error,
    InvalidImageError,
    UnsupportedMediaTypeError,
)
from proctor.frame import check_content_type, decode_base64_image, decode_image, make_frame

LIMITS = {"max_bytes": 1_000_000, "max_pixels": 4_000_000}


def encode(image: np.ndarray, ext: str = ".png") -> bytes:
    ok, data = cv2.imencode(ext, image)
    assert ok
    return data.tobytes()


def gradient(height: int = 48, width: int = 64) -> np.ndarray:
    y, x = np.mgrid[:height, :width]
    return np.dstack([x * 4 % 256, y * 4 % 256, (x + y) % 256]).astype(np.uint8)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp", ".webp"])
def test_decodes_supported_formats_to_bgr(ext: str) -> None:
    image = gradient()
    decoded = decode_image(encode(image, ext), **LIMITS)
    assert decoded.shape == image.shape
    assert np.abs(decoded.astype(int) - image).mean() < 8  # lossy formats are close


def test_png_roundtrip_is_exact_and_channel_order_is_bgr() -> None:
    image = np.zeros((16, 16, 3), np.uint8)
    image[..., 0] = 255  # pure blue in BGR
    decoded = decode_image(encode(image), **LIMITS)
    assert (decoded == image).all()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", EmptyUploadError),
        (b"hello, this is not an image", InvalidImageError),
        (b"GIF89a" + b"\x00" * 100, InvalidImageError),
    ],
)
def test_rejects_non_images(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        decode_image(data, **LIMITS)


def test_16_bit_grey_png_is_scaled_to_8_bits_not_clipped() -> None:
    """Pillow's ``convert("RGB")`` clips 16-bit grey (``I;16``) at 255: the frame came out white."""
    ramp = np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)
    decoded = decode_image(encode(ramp), **LIMITS)
    assert decoded.shape == (64, 64, 3)
    assert np.abs(decoded[..., 0].astype(int) - (ramp >> 8)).max() == 0
    assert (decoded[..., 0] == decoded[..., 2]).all()


@pytest.mark.parametrize("ext", [".png", ".jpg"])
def test_rejects_truncated_images(ext: str) -> None:
    data = encode(gradient(200, 200), ext)
    with pytest.raises(InvalidImageError, match=r"decoded|truncated"):
        decode_image(data[: len(data) // 2], **LIMITS)


def test_rejects_files_over_the_byte_limit() -> None:
    data = encode(np.random.default_rng(0).integers(0, 255, (200, 200, 3), np.uint8))
    with pytest.raises(ImageTooLargeError, match="bytes"):
        decode_image(data, max_bytes=len(data) - 1, max_pixels=10**8)


def test_rejects_decompression_bombs_before_decoding() -> None:
    # 20000 x 20000 zero pixels compress to a few hundred KB but would need 1.2 GB decoded.
    buffer = io.BytesIO()
    Image.new("L", (20000, 20000)).save(buffer, format="PNG")
    with pytest.raises(ImageTooLargeError, match="pixels"):
        decode_image(buffer.getvalue(), max_bytes=10**8, max_pixels=40_000_000)


def test_rejects_tiny_images() -> None:
    with pytest.raises(InvalidImageError, match="at least"):
        decode_image(encode(gradient(4, 4)), **LIMITS)


def test_base64_plain_and_data_url() -> None:
    data = encode(gradient())
    text = base64.b64encode(data).decode()
    assert decode_base64_image(text, 10**6) == data
    assert decode_base64_image(f"data:image/png;base64,{text}", 10**6) == data
    assert decode_base64_image(text[:20] + "\n" + text[20:], 10**6) == data


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", EmptyUploadError),
        ("not base64 at all!", InvalidBase64Error),
        ("QUJ", InvalidBase64Error),  # bad padding
        ("data:image/png,rawbytes", InvalidBase64Error),
        ("data:text/plain;base64,aGVsbG8=", UnsupportedMediaTypeError),
    ],
)
def test_base64_errors(text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        decode_base64_image(text, 10**6)


def test_base64_size_is_checked_before_decoding() -> None:
    with pytest.raises(ImageTooLargeError):
        decode_base64_image("A" * 4000, max_bytes=1000)


@pytest.mark.parametrize(
    "content_type", [None, "image/jpeg", "image/png; charset=x", "application/octet-stream"]
)
def test_content_types_accepted(content_type: str | None) -> None:
    check_content_type(content_type)


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "video/mp4"])
def test_content_types_refused(content_type: str) -> None:
    with pytest.raises(UnsupportedMediaTypeError):
        check_content_type(content_type)


def test_make_frame_downscales_once_and_maps_back() -> None:
    frame = make_frame(np.zeros((1000, 2000, 3), np.uint8), analysis_max_side=500)
    assert frame.image.shape == (250, 500, 3)
    assert (frame.width, frame.height) == (2000, 1000)
    assert np.allclose(frame.to_original(np.array([[100.0, 50.0]])), [[400.0, 200.0]])


def test_make_frame_keeps_small_frames() -> None:
    image = np.zeros((480, 640, 3), np.uint8)
    frame = make_frame(image, analysis_max_side=1280)
    assert frame.image is image and frame.scale == 1.0


@pytest.mark.parametrize(("height", "width"), [(40000, 8), (8, 40000), (1000, 3)])
def test_make_frame_scale_comes_from_the_longest_side(height: int, width: int) -> None:
    """A thin image's short side rounds to one pixel; the scale must not come from it."""
    frame = make_frame(np.zeros((height, width, 3), np.uint8), analysis_max_side=1000)
    longest = max(height, width)
    assert frame.scale == pytest.approx(longest / 1000)
    corner = frame.to_original(np.array([[frame.image.shape[1], frame.image.shape[0]]], float))
    assert corner[0, int(height > width)] == pytest.approx(longest)
