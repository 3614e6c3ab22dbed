"""Provenance marks on every PNG the bot makes: it says, three ways, that the image is AI-made.

1. An invisible watermark: `invisible-watermark` (import `imwatermark`), method "dwtDctSvd": for
   every 4x4 block of the Haar DWT's LL band of the U (blue-difference) channel (8x8 pixels), the
   largest singular value of the block's DCT is quantized to step 36, its remainder saying 0 or 1;
   the bit sequence repeats over all blocks and decoding averages the repeats. Measured here
   (provenance notes): "dwtDct", the method of the Stable Diffusion reference scripts, does not
   survive a JPEG re-encode at quality 90 with Pillow's default 4:2:0 chroma subsampling (bit
   accuracy 0.45-0.71, chance is 0.5); dwtDctSvd, from the same package at the same PSNR (~38 dB),
   reads back exactly. Payload layout v1 (16 bytes, big-endian)::

       offset size  field
       0      4     magic  b"PXFG"  ("Pixelforge": names the bot that made the image)
       4      1     layout version, 1
       5      8     job id (unsigned)
       13     1     image index within the job (0-255)
       14     2     CRC-16/CCITT-FALSE (binascii.crc_hqx, init 0xFFFF) of bytes 0-13

   embedded as its 128 bits (most significant first) then 3 zero bits: 131, a prime, so that each
   bit's repeats spread over every column of the block grid whatever the width (with 128 bits and a
   512 px image each bit would sit in one column of blocks, and fail wherever that column is flat).
   "No watermark" and "watermark of job N" are told apart by magic + version + CRC: 56 bits must all
   agree, so an unmarked image reads as marked with probability ~2^-56.
   imwatermark refuses images under 256x256 pixels of area (65,536; its own check, when embedding
   and reading): those carry no watermark (the XMP and parameters still say what they are). A copy
   shrunk to half size is read by enlarging it back 2x first (the block grid must line up again).
2. An XMP packet (PNG iTXt chunk "XML:com.adobe.xmp") with IPTC's
   `Iptc4xmpExt:DigitalSourceType` = trainedAlgorithmicMedia, always written.
3. The A1111 `parameters` chunk (pngmeta.py), unchanged.

imwatermark imports torch (its RivaGAN module) and OpenCV: it is imported only inside the functions
that embed or read, which run in the renderer process (embedding) or in `python -m bot verify`.
"""
from __future__ import annotations

import binascii
import re
import struct
from dataclasses import dataclass
from xml.etree import ElementTree

from PIL import Image

from bot.renderer import pngmeta

BOT_NAME = "Pixelforge"
MAGIC = b"PXFG"
LAYOUT_VERSION = 1
_LAYOUT = struct.Struct(">4sBQB")  # magic, version, job id, image index; then the CRC-16
PAYLOAD_BYTES = _LAYOUT.size + 2  # 16
PAYLOAD_BITS = PAYLOAD_BYTES * 8  # 128
_PAD_BITS = 3
SEQUENCE_BITS = PAYLOAD_BITS + _PAD_BITS  # 131, prime (see above)
METHOD = "dwtDctSvd"
# imwatermark's WatermarkEncoder raises below this many pixels (rows x columns).
MIN_PIXELS = 256 * 256

XMP_KEY = "XML:com.adobe.xmp"
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
# The other IPTC codes that say "made (in part) by a generative model".
AI_SOURCE_TYPES = frozenset({
    TRAINED_ALGORITHMIC_MEDIA,
    "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia",
    "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia",
})
_NS_IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
_NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_DST = f"{{{_NS_IPTC_EXT}}}DigitalSourceType"
# A packet from a file we did not write is read only if it is small and declares no entities.
_MAX_XMP = 256 * 1024
_UNSAFE_XML = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)

XMP_PACKET = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="{_NS_RDF}">
  <rdf:Description rdf:about=""
    xmlns:Iptc4xmpExt="{_NS_IPTC_EXT}"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/">
   <Iptc4xmpExt:DigitalSourceType>{TRAINED_ALGORITHMIC_MEDIA}</Iptc4xmpExt:DigitalSourceType>
   <xmp:CreatorTool>{BOT_NAME}</xmp:CreatorTool>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="r"?>"""


# ---------------------------------------------------------------- payload

def _crc(data: bytes) -> int:
    return binascii.crc_hqx(data, 0xFFFF)


def payload(job_id: int, index: int = 0) -> bytes:
    """The 16 payload bytes for image `index` of job `job_id` (layout in the module docstring)."""
    if not 0 <= job_id < 2**64:
        raise ValueError(f"job id {job_id} does not fit the watermark's 8 bytes")
    head = _LAYOUT.pack(MAGIC, LAYOUT_VERSION, job_id, index & 0xFF)
    return head + _crc(head).to_bytes(2, "big")


def payload_bits(data: bytes) -> list[int]:
    return [(byte >> (7 - i)) & 1 for byte in data for i in range(8)]


def _bits_to_bytes(bits) -> bytes:
    out = bytearray()
    for start in range(0, len(bits) - len(bits) % 8, 8):
        value = 0
        for bit in bits[start:start + 8]:
            value = (value << 1) | int(bool(bit))
        out.append(value)
    return bytes(out)


@dataclass(frozen=True)
class WatermarkReading:
    """What the watermark decoder read from one image.

    found: magic, version and checksum all agree (job_id/index are then the payload's).
    header_bits: how many of the 40 magic + version bits agree; with `found` False, a value near 40
    means a watermark that is there but damaged (the job id is not trusted), ~20 means none.
    too_small: the image is under MIN_PIXELS, so nothing could have been embedded."""

    found: bool
    job_id: int | None = None
    index: int | None = None
    header_bits: int = 0
    too_small: bool = False
    bits: tuple[int, ...] = ()

    @property
    def bot_name(self) -> str | None:
        return BOT_NAME if self.found else None


def parse_payload(bits) -> WatermarkReading:
    """Decoded bits -> a reading: found only when magic, version and CRC all agree."""
    bits = tuple(int(bool(b)) for b in bits)
    data = _bits_to_bytes(bits)
    header = payload_bits(MAGIC + bytes([LAYOUT_VERSION]))
    header_bits = sum(a == b for a, b in zip(bits[: len(header)], header, strict=False))
    if len(data) != PAYLOAD_BYTES:
        return WatermarkReading(False, header_bits=header_bits, bits=bits)
    magic, version, job_id, index = _LAYOUT.unpack(data[: _LAYOUT.size])
    ok = magic == MAGIC and version == LAYOUT_VERSION and _crc(data[: _LAYOUT.size]) == int.from_bytes(data[-2:], "big")
    if not ok:
        return WatermarkReading(False, header_bits=header_bits, bits=bits)
    return WatermarkReading(True, job_id, index, header_bits, bits=bits)


# ---------------------------------------------------------------- watermark

def _imwatermark():
    """The imwatermark module; an ImportError says what to install. Fails closed: with WATERMARK=on an
    image is never written unmarked because the library is missing."""
    try:
        import imwatermark
    except ImportError as exc:  # opencv-python's wheel needs the system's libGL and libglib
        raise ImportError(f"the invisible watermark cannot load ({exc}): install invisible-watermark, and "
                          "libgl1 libglib2.0-0 on slim Linux images, or set WATERMARK=off") from exc
    return imwatermark


def _bgr(image: Image.Image):
    import numpy as np

    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])


def can_carry(image: Image.Image) -> bool:
    return image.width * image.height >= MIN_PIXELS


def embed_watermark(image: Image.Image, job_id: int, index: int = 0) -> Image.Image:
    """`image` with the payload of (job_id, index) embedded; images under MIN_PIXELS are returned
    as they are (see the module docstring). Pure CPU numpy work: call it off the event loop (the
    renderer's encoder threads do)."""
    if not can_carry(image):
        return image
    encoder = _imwatermark().WatermarkEncoder()
    encoder.set_watermark("bits", payload_bits(payload(job_id, index)) + [0] * _PAD_BITS)
    marked = encoder.encode(_bgr(image), METHOD)
    out = Image.fromarray(marked[:, :, ::-1].copy(), "RGB")
    if image.mode == "RGBA":
        out.putalpha(image.getchannel("A"))
    return out


def decode_bits(image: Image.Image) -> list[int]:
    """The PAYLOAD_BITS payload bits the decoder reads from `image` (marked or not; padding dropped).
    The image must have at least MIN_PIXELS."""
    decoder = _imwatermark().WatermarkDecoder("bits", SEQUENCE_BITS)
    return [int(b) for b in decoder.decode(_bgr(image), METHOD)][:PAYLOAD_BITS]


def _enlarged(image: Image.Image) -> Image.Image:
    return image.convert("RGB").resize((image.width * 2, image.height * 2), Image.Resampling.BICUBIC)


def read_watermark(image: Image.Image) -> WatermarkReading:
    """The watermark of `image`: as it is, else enlarged 2x (a copy shrunk to half size). Of two
    unreadable tries, the one whose header agrees best is kept (its header_bits say how damaged)."""
    tries = [image, _enlarged(image)] if can_carry(image) else [_enlarged(image)]
    best = None
    for candidate in tries:
        if not can_carry(candidate):
            return WatermarkReading(False, too_small=True)
        reading = parse_payload(decode_bits(candidate))
        if reading.found:
            return reading
        if best is None or reading.header_bits > best.header_bits:
            best = reading
    return best  # type: ignore[return-value]


def bit_accuracy(image: Image.Image, job_id: int, index: int = 0) -> float:
    """Share of the 128 payload bits of (job_id, index) that decode correctly from `image` as it is
    (0.5 is chance)."""
    expected = payload_bits(payload(job_id, index))
    got = decode_bits(image)
    return sum(a == b for a, b in zip(got, expected, strict=True)) / len(expected)


# ---------------------------------------------------------------- XMP

def digital_source_type(xmp: str | bytes | None) -> str | None:
    """`Iptc4xmpExt:DigitalSourceType` of an XMP packet (element or attribute form), or None."""
    if not xmp:
        return None
    if isinstance(xmp, bytes):
        xmp = xmp.decode("utf-8", "replace")
    if len(xmp) > _MAX_XMP or _UNSAFE_XML.search(xmp):
        return None
    start, end = xmp.find("<x:xmpmeta"), xmp.rfind("</x:xmpmeta>")
    body = xmp[start:end + len("</x:xmpmeta>")] if start >= 0 and end > start else xmp
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None
    for desc in root.iter(f"{{{_NS_RDF}}}Description"):
        if desc.get(_DST):
            return desc.get(_DST).strip()  # type: ignore[union-attr]
        node = desc.find(_DST)
        if node is not None:
            value = (node.text or "").strip() or node.get(f"{{{_NS_RDF}}}resource", "").strip()
            if value:
                return value
    return None


def read_xmp(image: Image.Image) -> str | None:
    """The XMP packet Pillow found: PNG iTXt "XML:com.adobe.xmp", or JPEG/WebP "xmp"."""
    value = image.info.get(XMP_KEY) or image.info.get("xmp")
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value


# ---------------------------------------------------------------- writing

def marked_png(image: Image.Image, parameters: str | None, job_id: int, index: int = 0, *,
               watermark: bool = True, compress_level: int = 6) -> bytes:
    """PNG bytes with all three marks: the watermark (when `watermark` and the image is large
    enough), the XMP packet and the A1111 parameters chunk."""
    if watermark:
        image = embed_watermark(image, job_id, index)
    return pngmeta.png_bytes(image, parameters, compress_level, xmp=XMP_PACKET)
