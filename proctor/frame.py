"""Decode and validate an uploaded image once, into the ``Frame`` every analyzer reads.

Decoding goes through Pillow because it reports truncated files as errors (OpenCV's
``imdecode`` silently returns a half-grey picture) and lets us read the pixel size
from the header before allocating anything, which stops decompression bombs.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from proctor.errors import (
    EmptyUploadError,
    ImageTooLargeError,
    InvalidBase64Error,
    InvalidImageError,
    UnsupportedMediaTypeError,
)

#: Formats a browser or webcam client plausibly sends; anything else is refused.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP")
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(;[\w=.+-]+)*;base64,", re.IGNORECASE)


@dataclass(frozen=True)
class Frame:
    """One decoded frame.

    ``image`` is the BGR picture analyzers work on, downscaled so its longest side is
    at most ``analysis_max_side``; ``scale`` maps its pixels back to the original
    (original = analysis * scale), which is what the response reports.
    ``horizontal_fov_deg`` is the camera's field of view when the upload's EXIF said it
    (None: the configured default applies).
    """

    image: np.ndarray
    width: int
    height: int
    scale: float
    horizontal_fov_deg: float | None = None

    def to_original(self, points: np.ndarray) -> np.ndarray:
        """Map analysis-image coordinates (any shape) to original-image pixels."""
        return np.asarray(points, dtype=np.float32) * self.scale


def check_content_type(content_type: str | None) -> None:
    """Refuse uploads whose declared type is clearly not an image (absent is fine)."""
    if not content_type:
        return
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime.startswith("image/") or mime in ("application/octet-stream", ""):
        return
    raise UnsupportedMediaTypeError(
        f"expected an image (image/jpeg, image/png, image/webp, image/bmp), got {mime!r}"
    )


def decode_base64_image(text: str, max_bytes: int) -> bytes:
    """Bytes of a base64 string or ``data:image/...;base64,`` URL, size-checked first."""
    text = text.strip()
    match = _DATA_URL.match(text)
    if match:
        mime = match.group("mime")
        if mime:
            check_content_type(mime)
        text = text[match.end() :]
    elif text.startswith("data:"):
        raise InvalidBase64Error("data URL must be base64-encoded (data:image/...;base64,...)")
    text = re.sub(r"\s+", "", text)
    if not text:
        raise EmptyUploadError("the image string is empty")
    if len(text) * 3 // 4 > max_bytes:
        raise ImageTooLargeError(f"image is larger than the {max_bytes} byte limit")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidBase64Error(f"image is not valid base64: {exc}") from None


def to_rgb(img: Image.Image) -> Image.Image:
    """``img`` as 8-bit RGB. A 16-bit grey PNG (Pillow's ``I;16`` modes) is scaled to 8 bits
    first: ``convert`` would clip every value above 255, and the frame would come out white."""
    if img.mode.startswith("I;16"):
        img = Image.fromarray((np.asarray(img) >> 8).astype(np.uint8), "L")
    return img.convert("RGB")


#: EXIF tags: the Exif sub-IFD, the 35-mm-equivalent focal length in it, the orientation.
_EXIF_IFD, _FOCAL_35MM, _ORIENTATION = 0x8769, 0xA405, 0x0112
#: Diagonal of a 36x24 mm frame: CIPA DC-008 defines the 35-mm equivalent by the diagonal.
_FULL_FRAME_DIAGONAL_MM = math.hypot(36.0, 24.0)


def exif_horizontal_fov(data: bytes) -> float | None:
    """The camera's horizontal field of view (degrees) from the upload's EXIF
    FocalLengthIn35mmFilm, or None when it has none (most webcam streams carry no EXIF).

    The equivalent focal length is defined against a full-frame diagonal, so the width it
    covers is that diagonal's share along the (upright) image's width: 36 mm for a 3:2
    image, 34.6 mm for 4:3. Only the header is read; ``decode_image`` checks the rest.
    """
    try:
        with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as img:
            exif = img.getexif()
            focal = float(exif.get_ifd(_EXIF_IFD).get(_FOCAL_35MM) or 0)
            width, height = img.size
            if exif.get(_ORIENTATION) in (5, 6, 7, 8):  # stored turned by 90 degrees
                width, height = height, width
    except (OSError, ValueError, TypeError, SyntaxError):
        return None
    if focal <= 0:
        return None
    covered_mm = _FULL_FRAME_DIAGONAL_MM * width / math.hypot(width, height)
    return math.degrees(2 * math.atan(covered_mm / (2 * focal)))


def decode_image(data: bytes, *, max_bytes: int, max_pixels: int) -> np.ndarray:
    """Full-size BGR uint8 array of an encoded image, or a ``ProctorError`` saying why not."""
    if not data:
        raise EmptyUploadError("the uploaded image is empty (0 bytes)")
    if len(data) > max_bytes:
        raise ImageTooLargeError(f"image is {len(data)} bytes; the limit is {max_bytes}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as img:
                width, height = img.size
                if width * height > max_pixels:
                    raise ImageTooLargeError(
                        f"image is {width}x{height} pixels; the limit is {max_pixels} pixels"
                    )
                img.load()
                rgb = to_rgb(ImageOps.exif_transpose(img))
    except UnidentifiedImageError:
        raise InvalidImageError(
            f"not a supported image; send one of {', '.join(ACCEPTED_FORMATS)}"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLargeError("image has too many pixels (decompression bomb)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidImageError(f"the image could not be decoded: {exc}") from None
    if rgb.width < 8 or rgb.height < 8:
        raise InvalidImageError(f"image is {rgb.width}x{rgb.height}; at least 8x8 is needed")
    return cv2.cvtColor(np.asarray(rgb), cv2.COLOR_RGB2BGR)


def make_frame(
    image_bgr: np.ndarray, analysis_max_side: int, horizontal_fov_deg: float | None = None
) -> Frame:
    """Wrap a full-size BGR image, downscaling it once if it exceeds ``analysis_max_side``.

    The scale back to original pixels comes from the longest side, which rounding changes
    least (on an 8x40000 image the width rounds from 8 to 0.26 pixels, the height does not).
    """
    height, width = image_bgr.shape[:2]
    longest = max(height, width)
    if longest <= analysis_max_side:
        return Frame(image_bgr, width, height, 1.0, horizontal_fov_deg)
    ratio = analysis_max_side / longest
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    small = cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA)
    return Frame(small, width, height, longest / max(size), horizontal_fov_deg)
