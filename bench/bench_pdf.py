"""Benchmark PDF assembly against a lower bound.

A synthetic 100-page book: 6 panels a page, 4 balloons a panel (body + tail,
3 lines of lettering each), ~150 KB of JPEG art per panel. Each panel's art
is distinct bytes (a few Pillow-made JPEGs, each copy tagged with a JPEG
comment segment), so nothing is deduplicated.

Measured, each in a fresh child process so peak RSS is not shared:
  comicc   write_pdf(...) to a file
  bound    a hand-rolled minimal PDF writer that only places the JPEG image
           XObjects (no text, no shapes): the cost of moving the bytes
  bound+   the same, written the way write_pdf writes (temp file, fsync,
           os.replace): the fair floor for an atomic, durable write
  pikepdf  the same minimal PDF built and saved with pikepdf (for reference)
Time is wall time of the write (best of --repeat; CPU time, user + system,
also printed: it is steadier on a busy machine); memory is peak RSS from
resource.getrusage(RUSAGE_SELF).ru_maxrss, reported as the increase over the
child's RSS just before the write (art already in memory).

    .venv/bin/python bench/bench_pdf.py [--pages 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time

from PIL import Image, ImageDraw, ImageFilter

from comicc.fonts import FontRef
from comicc.images import PanelArt
from comicc.layout import (
    BalloonGeom,
    BookGeom,
    GlyphRun,
    PageGeom,
    PanelGeom,
    PathCmd,
    Rect,
    Shape,
    Stroke,
    TextLine,
    VectorPath,
)

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
W, H, BLEED = 477.0, 738.0, 9.0
WORDS = "the quick brown fox jumps over lazy dog we need to talk about kevin now".split()


def _base_jpegs(n: int = 6, size=(800, 600), target: int = 150_000) -> list[bytes]:
    """A few JPEGs of about ``target`` bytes (noise + shapes; quality tuned)."""
    rng = random.Random(1)
    out = []
    for i in range(n):
        im = Image.effect_noise(size, 60 + 10 * i).convert("RGB")
        im = im.filter(ImageFilter.GaussianBlur(1.2))
        d = ImageDraw.Draw(im)
        for _ in range(30):
            x, y = rng.randrange(size[0]), rng.randrange(size[1])
            d.ellipse(
                [x, y, x + rng.randrange(20, 200), y + rng.randrange(20, 200)],
                fill=tuple(rng.randrange(256) for _ in range(3)),
            )
        lo, hi = 10, 98
        while lo < hi:  # binary search the quality that lands near the target
            q = (lo + hi + 1) // 2
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=q)
            if buf.tell() <= target:
                lo = q
            else:
                hi = q - 1
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=lo)
        out.append(buf.getvalue())
    return out


def _tag(jpeg: bytes, text: str) -> bytes:
    """Insert a COM segment after SOI: distinct bytes, same image."""
    body = text.encode()
    return jpeg[:2] + b"\xff\xfe" + (len(body) + 2).to_bytes(2, "big") + body + jpeg[2:]


def _ellipse(cx, cy, rx, ry) -> VectorPath:
    k = 0.5523
    return VectorPath(
        (
            PathCmd("M", (cx + rx, cy)),
            PathCmd("C", (cx + rx, cy + k * ry, cx + k * rx, cy + ry, cx, cy + ry)),
            PathCmd("C", (cx - k * rx, cy + ry, cx - rx, cy + k * ry, cx - rx, cy)),
            PathCmd("C", (cx - rx, cy - k * ry, cx - k * rx, cy - ry, cx, cy - ry)),
            PathCmd("C", (cx + k * rx, cy - ry, cx + rx, cy - k * ry, cx + rx, cy)),
            PathCmd("Z"),
        )
    )


def build_book(pages: int = 100):
    rng = random.Random(7)
    font = FontRef("DejaVuSans", FONT, 8.5)
    bases = _base_jpegs()
    art: dict[str, PanelArt] = {}
    page_geoms = []
    cw, ch = (W - 72 - 12) / 2, (H - 72 - 24) / 3
    for pn in range(1, pages + 1):
        panels = []
        for i in range(6):
            r = Rect(36 + (i % 2) * (cw + 12), 36 + (i // 2) * (ch + 12), cw, ch)
            pid = f"p{pn}.{i + 1}"
            balloons = []
            for j in range(4):
                cx, cy = r.x + r.w * (0.3 + 0.4 * (j % 2)), r.y + 30 + 45 * (j // 2)
                body = _ellipse(cx, cy, 45, 18)
                tail = VectorPath.polygon([(cx - 5, cy + 16), (cx + 5, cy + 16), (cx - 8, cy + 30)])
                lines = []
                for li in range(3):
                    text = " ".join(rng.choice(WORDS) for _ in range(3)).upper()
                    tw = len(text) * 5.0
                    lines.append(
                        TextLine((GlyphRun(text, font, cx - tw / 2, cy - 8 + li * 9.5, tw),))
                    )
                balloons.append(
                    BalloonGeom(
                        f"{pid}.b{j + 1}",
                        "speech",
                        "A",
                        Rect(cx - 45, cy - 18, 90, 36),
                        body,
                        tail,
                        (Shape(body, "#ffffff", Stroke(0.8)), Shape(tail, "#ffffff", Stroke(0.8))),
                        tuple(lines),
                        (body, tail),
                    )
                )
            panels.append(
                PanelGeom(
                    pid, i + 1, r, Shape(VectorPath.rect(r), None, Stroke(1.5)), tuple(balloons)
                )
            )
            art[pid] = PanelArt.from_bytes(_tag(bases[(pn + i) % len(bases)], pid))
        page_geoms.append(PageGeom((pn,), W, H, BLEED, Rect(36, 36, W - 72, H - 72), tuple(panels)))
    return BookGeom(tuple(page_geoms)), art


def minimal_pdf(book: BookGeom, art: dict[str, PanelArt], f) -> None:
    """The lower bound: only the image XObjects and one `Do` per panel."""
    offsets: list[int] = []
    pos = 0

    def obj(body: bytes) -> int:
        nonlocal pos
        offsets.append(pos)
        num = len(offsets)
        chunk = b"%d 0 obj\n" % num + body + b"\nendobj\n"
        f.write(chunk)
        pos += len(chunk)
        return num

    head = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    f.write(head)
    pos = len(head)
    n_pages = len(book.pages)
    pages_num = 2 + 0  # catalog 1, pages 2; page objects follow
    obj(b"<< /Type /Catalog /Pages 2 0 R >>")
    # reserve page numbers: page i -> 3 + 2*i (page) and 4 + 2*i (contents); images after
    first_img = 3 + 2 * n_pages
    kids = b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(n_pages))
    obj(b"<< /Type /Pages /Count %d /Kids [%s] >>" % (n_pages, kids))
    img_num = first_img
    for page in book.pages:
        xo, ops = [], []
        for k, panel in enumerate(page.panels):
            r = panel.rect
            xo.append(b"/Im%d %d 0 R" % (k, img_num + k))
            ops.append(b"q %.2f 0 0 %.2f %.2f %.2f cm /Im%d Do Q" % (r.w, r.h, r.x, H - r.y2, k))
        content = b"\n".join(ops)
        obj(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %g %g]"
            b" /Resources << /XObject << %s >> >> /Contents %d 0 R >>"
            % (pages_num, page.width, page.height, b" ".join(xo), len(offsets) + 2)
        )
        obj(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        img_num += len(page.panels)
    for page in book.pages:
        for panel in page.panels:
            a = art[panel.id]
            obj(
                b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB"
                b" /BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n"
                % (a.width, a.height, len(a.data))
                + a.data
                + b"\nendstream"
            )
    xref = pos
    f.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
    f.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    f.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, xref)
    )


def pikepdf_pdf(book: BookGeom, art: dict[str, PanelArt], path: str) -> None:
    import pikepdf

    pdf = pikepdf.new()
    for page in book.pages:
        pg = pdf.add_blank_page(page_size=(page.width, page.height))
        xo, ops = pikepdf.Dictionary(), []
        for k, panel in enumerate(page.panels):
            a, r = art[panel.id], panel.rect
            s = pikepdf.Stream(pdf, b"")
            s.write(a.data, filter=pikepdf.Name.DCTDecode)
            s.Type, s.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
            s.Width, s.Height, s.BitsPerComponent = a.width, a.height, 8
            s.ColorSpace = pikepdf.Name.DeviceRGB
            xo[f"/Im{k}"] = s
            ops.append(f"q {r.w:.2f} 0 0 {r.h:.2f} {r.x:.2f} {H - r.y2:.2f} cm /Im{k} Do Q")
        pg.Resources = pikepdf.Dictionary(XObject=xo)
        pg.Contents = pdf.make_stream("\n".join(ops).encode())
    pdf.save(path, compress_streams=False)


def run_case(case: str, pages: int, repeat: int) -> dict:
    book, art = build_book(pages)
    if case == "comicc":
        from comicc.model.ir import Metadata
        from comicc.output import write_pdf

        meta = Metadata(title="Bench", author="bench")
    gc.collect()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times, cpu = [], []
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "out.pdf")
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            if case == "comicc":
                write_pdf(book, art, meta, out)
            elif case == "bound":
                with open(out, "wb") as f:
                    minimal_pdf(book, art, f)
            elif case == "bound+":
                from comicc.files import atomic_write

                with atomic_write(out) as f:
                    minimal_pdf(book, art, f)
            else:
                pikepdf_pdf(book, art, out)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            size = os.path.getsize(out)
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    art_bytes = sum(len(a.data) for a in art.values())
    return {
        "case": case,
        "best_s": min(times),
        "times_s": times,
        "cpu_s": min(cpu),
        "size_mb": size / 1e6,
        "art_mb": art_bytes / 1e6,
        "rss_before_mb": rss0 / 1024,
        "rss_peak_mb": rss1 / 1024,
        "rss_increase_mb": (rss1 - rss0) / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--case", choices=("comicc", "bound", "bound+", "pikepdf"))
    a = ap.parse_args()
    if a.case:
        print(json.dumps(run_case(a.case, a.pages, a.repeat)))
        return
    res = {}
    for case in ("bound", "bound+", "pikepdf", "comicc"):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--case",
                case,
                "--pages",
                str(a.pages),
                "--repeat",
                str(a.repeat),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        res[case] = r = json.loads(out)
        print(
            f"{case:8s} best {r['best_s']:.3f}s  cpu {r['cpu_s']:.3f}s  (runs: "
            f"{', '.join(f'{t:.3f}' for t in r['times_s'])})  file {r['size_mb']:.1f} MB  "
            f"art {r['art_mb']:.1f} MB  peak RSS +{r['rss_increase_mb']:.0f} MB "
            f"(over {r['rss_before_mb']:.0f} MB before the write)"
        )
    print(f"ratio comicc / bound:   {res['comicc']['best_s'] / res['bound']['best_s']:.2f}x")
    print(f"ratio comicc / bound+:  {res['comicc']['best_s'] / res['bound+']['best_s']:.2f}x")
    print(f"ratio comicc / pikepdf: {res['comicc']['best_s'] / res['pikepdf']['best_s']:.2f}x")


if __name__ == "__main__":
    main()
