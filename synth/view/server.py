"""The viewer's local HTTP server (standard library): the page, its assets, and a small JSON API.

    GET /[?lang=en|zh]          the page (static/index.html), in the language asked for, else the first of
                                the browser's Accept-Language that it speaks (English, Chinese)
    GET /static/<file>          its scripts and styles (only the files shipped in static/)
    GET /api/overview           manifest digest: status, model, sampling, requests, funnel, set sizes
    GET /api/groups             rejected rows by stage and reason
    GET /api/rows?set=&start=&limit=&q=&verdict=&cell=&document=&stage=&reason=
                                one page of row summaries (see synth.view.tables for positions)
    GET /api/row?set=&i=        one whole entry, with its seed row's progress from cache.sqlite
    GET /api/facets?set=        facet values with counts
    GET /api/coverage           the recipe's coverage report and heat maps

It binds 127.0.0.1 only, answers only requests addressed to a loopback host name (a web page
elsewhere cannot read it through DNS rebinding), and never writes to the run directory.
"""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from synth.view.run import RunView
from synth.view.tables import ENTRY_FILTERS, ROW_FILTERS, Query

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
LOOPBACK = {"127.0.0.1", "localhost", "[::1]"}
MAX_LIMIT = 500
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".html": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8",
                 ".md": "text/markdown; charset=utf-8"}
# Model output is untrusted: no scripts but ours, no requests anywhere but here (a Markdown image
# pointing elsewhere would leak that the row was viewed)
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def static_files() -> dict[str, Path]:
    return {p.name: p for p in STATIC.iterdir() if p.is_file()}


def query_of(params: dict[str, str]) -> Query:
    filters = {k: params[k] for k in (*ROW_FILTERS, *ENTRY_FILTERS, "split") if params.get(k)}
    return Query(text=params.get("q", "").strip(), filters=filters)


LANGUAGES = ("en", "zh")  # the page's interface languages (static/i18n.js holds the words)


def page_language(accept_language: str | None, asked: str | None = None) -> str:
    """The interface language for a page request: `?lang=` when it names one, else the first language of
    the browser's Accept-Language (by q) that the page speaks, else English.

    >>> page_language("zh-CN,zh;q=0.9,en;q=0.8"), page_language("en-US,en;q=0.9,zh;q=0.8"), page_language(None)
    ('zh', 'en', 'en')
    >>> page_language("fr-FR, zh-TW;q=0.7, en;q=0.5"), page_language("zh-CN", asked="en")
    ('zh', 'en')
    """
    if asked in LANGUAGES:
        return asked
    ranked = []
    for k, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        base = tag.strip().lower().split("-")[0]
        if base in LANGUAGES and q > 0:
            ranked.append((-q, k, base))
    return min(ranked)[2] if ranked else "en"


def index_page(lang: str) -> bytes:
    """static/index.html for `lang`: <html lang=... data-lang=...>, which app.js reads."""
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    tag = "zh-CN" if lang == "zh" else "en"
    return html.replace('<html lang="en">', f'<html lang="{tag}" data-lang="{lang}">', 1).encode("utf-8")


def host_name(header: str) -> str:
    """The host of a Host header, without its port.

    >>> host_name("127.0.0.1:8765"), host_name("[::1]:80"), host_name("localhost")
    ('127.0.0.1', '[::1]', 'localhost')
    """
    if header.startswith("["):
        return header.split("]")[0] + "]"
    return header.rsplit(":", 1)[0]


def _int(params: dict[str, str], key: str, default: int, low: int = 0, high: int | None = None) -> int:
    raw = params.get(key)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{key}={raw!r} is not a whole number") from None
    if value < low or (high is not None and value > high):
        raise ValueError(f"{key}={value} is out of range ({low}..{high if high is not None else '∞'})")
    return value


def api(view: RunView, route: str, params: dict[str, str]) -> object:
    """Answer one API call; ValueError means a bad request, IndexError / KeyError a missing thing."""
    if route == "overview":
        return view.overview()
    if route == "groups":
        return view.groups()
    if route == "coverage":
        return view.coverage()
    kind = params.get("set", "kept")
    if route == "facets":
        return view.facets(kind)
    if route == "rows":
        page = view.table(kind).page(query_of(params), start=_int(params, "start", 0),
                                     limit=_int(params, "limit", 50, 1, MAX_LIMIT))
        return page.as_dict()
    if route == "row":
        return view.detail(kind, _int(params, "i", 0))
    raise KeyError(route)


class Handler(BaseHTTPRequestHandler):
    server: ViewServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        log.debug("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, content_type: str, *, cache: bool = False,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "max-age=3600" if cache else "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: object) -> None:
        body = json.dumps(obj, ensure_ascii=False, default=str).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8")

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        host = host_name(self.headers.get("Host") or "")
        if host not in LOOPBACK:
            refused = f"host {host!r} refused: open http://127.0.0.1:{self.server.port}/"
            self._json(HTTPStatus.FORBIDDEN, {"error": refused})
            return
        url = urlsplit(self.path)
        path = url.path
        if path in ("/", "/index.html"):
            asked = parse_qs(url.query).get("lang", [None])[-1]
            lang = page_language(self.headers.get("Accept-Language"), asked)
            self._send(HTTPStatus.OK, index_page(lang), "text/html; charset=utf-8",
                       headers={"Vary": "Accept-Language", "Content-Language": "zh-CN" if lang == "zh" else "en"})
        elif path.startswith("/static/"):
            file = static_files().get(path.removeprefix("/static/"))
            if file is None:
                self._json(HTTPStatus.NOT_FOUND, {"error": f"no such file: {path}"})
                return
            ctype = CONTENT_TYPES.get(file.suffix, "application/octet-stream")
            self._send(HTTPStatus.OK, file.read_bytes(), ctype, cache=True)
        elif path.startswith("/api/"):
            params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            try:
                self._json(HTTPStatus.OK, api(self.server.view, path.removeprefix("/api/"), params))
            except ValueError as exc:
                self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            except (IndexError, KeyError) as exc:
                self._json(HTTPStatus.NOT_FOUND, {"error": f"not found: {exc}"})
            except Exception as exc:  # one bad request must not stop the viewer
                log.exception("viewer: %s failed", self.path)
                self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"{type(exc).__name__}: {exc}"})
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {path}"})


class ViewServer(ThreadingHTTPServer):
    """Serves one run directory on 127.0.0.1; port 0 picks a free port."""

    daemon_threads = True

    def __init__(self, view: RunView, port: int = 0) -> None:
        self.view = view
        super().__init__(("127.0.0.1", port), Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start_background(self) -> threading.Thread:
        """Serve in a daemon thread (tests, notebooks); stop with shutdown() then server_close()."""
        thread = threading.Thread(target=self.serve_forever, daemon=True)
        thread.start()
        return thread
