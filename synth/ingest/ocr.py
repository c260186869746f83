"""OCR for PDF pages without a text layer (scans), an optional extra: ``pip install 'synth-datagen[ocr]'``.

RapidOCR (Apache-2.0) on ONNX Runtime: its wheel carries the PP-OCRv4 Chinese/English detection and
recognition models, so it runs offline on a CPU. A scanned page's images (pypdf extracts them as
stored, so nothing renders the page) are read top to bottom, a line per recognised text line. On 2
shared cores a full A4 scan takes 10-25 s. Without the extra, a page without a text layer is named
with the install hint.
"""

from __future__ import annotations

import functools
import io
import logging

INSTALL_HINT = "pip install 'synth-datagen[ocr]'"
MIN_SIDE = 32  # smaller images (icons, rules) are not read


@functools.lru_cache(maxsize=1)
def _engine():
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        return None
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    return RapidOCR()


def available() -> bool:
    """True when the OCR extra is installed."""
    return _engine() is not None


def ocr_image(data: bytes) -> str:
    """The text of one image (PNG/JPEG bytes): lines top to bottom, then left to right."""
    engine = _engine()
    if engine is None:
        return ""
    result, _ = engine(data)
    lines = []
    for box, text, _score in result or []:
        ys = [p[1] for p in box]
        xs = [p[0] for p in box]
        lines.append((min(ys), max(ys), min(xs), text.strip()))
    lines.sort(key=lambda item: (item[0], item[2]))
    # boxes whose vertical extents overlap by half are one visual line: join them left to right
    out: list[list] = []
    for top, bottom, left, text in lines:
        if out and top < out[-1][1] - 0.5 * (out[-1][1] - out[-1][0]):
            out[-1][3].append((left, text))
            out[-1][1] = max(out[-1][1], bottom)
        else:
            out.append([top, bottom, left, [(left, text)]])
    return "\n".join(" ".join(t for _, t in sorted(parts)) for *_, parts in out if parts)


def ocr_page(page) -> str:
    """The text of a PDF page's images (pypdf page), largest first when several overlap is unknown:
    in the order the page draws them."""
    texts = []
    try:
        images = list(page.images)
    except Exception:  # an image pypdf cannot decode: nothing to read
        return ""
    for image in images:
        try:
            picture = image.image
            if picture is None or min(picture.size) < MIN_SIDE:
                continue
            buffer = io.BytesIO()
            picture.convert("RGB").save(buffer, format="PNG")
        except Exception:
            continue
        text = ocr_image(buffer.getvalue())
        if text.strip():
            texts.append(text)
    return "\n".join(texts)
