"""What the stand-in Hugging Face Hub (standin.py) and ModelScope (ms_standin.py) share: a threaded HTTP
server on 127.0.0.1, repos whose branches point at commits of content-addressed blobs, tokens that map
to a user, their organisations and a role, injected faults and a log of every request.

A stand-in subclasses ``StandInBase`` with its protocol: ``route`` (one request -> its status, after
answering through ``h._json`` / ``h._bytes`` or raising ``Answer``), ``fault_body`` and
``refusal`` (how its API words an error), and ``default_branch``.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Entry:
    sha256: str
    size: int
    lfs: bool
    oid: str  # the Hub's id: git sha1 of the content (regular) or its sha256 (lfs)


@dataclass
class Commit:
    sha: str
    parent: str | None
    files: dict[str, Entry]
    message: str
    changes: list[dict] = field(default_factory=list)  # the operations or actions as the client sent them


@dataclass
class Repo:
    repo_id: str
    private: bool
    license: str | None = None
    branches: dict[str, str] = field(default_factory=dict)


class Answer(Exception):
    """Raised by a route: answer with this status, JSON body and headers."""

    def __init__(self, status: int, body: dict, headers: dict | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


class StandInBase:
    default_branch = "main"

    def __init__(self, tokens: dict[str, dict]) -> None:
        self.tokens = tokens  # token -> {"user": name, "orgs": [...], "role": "write" | "read"}
        self.repos: dict[str, Repo] = {}
        self.commits: dict[str, Commit] = {}
        self.blobs: dict[str, bytes] = {}   # sha256 -> bytes
        self.log: list[dict] = []
        self.faults: list[dict] = []
        self.lock = threading.RLock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- the protocol: a subclass's ------------------------------------------------------------------
    def route(self, h, method: str, path: str, query: dict, body: bytes) -> int:  # pragma: no cover
        raise NotImplementedError

    def fault_body(self, status: int, message: str) -> tuple[dict, dict]:  # pragma: no cover
        """The body and headers of an injected fault."""
        raise NotImplementedError

    def refusal(self, status: int, namespace: str) -> Answer:  # pragma: no cover
        """The error a write without rights gets (401: no or unknown token; 403: no rights in `namespace`)."""
        raise NotImplementedError

    # -- lifecycle --------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.down()

    def down(self) -> None:
        """Stop answering: the port closes, so clients get connection refused."""
        self.server.shutdown()
        self.server.server_close()

    # -- test hooks -------------------------------------------------------------------------------
    def fail(self, method: str, path_regex: str, status: int, times: int = 1_000_000, message: str = "injected",
             headers: dict | None = None) -> None:
        self.faults.append({"method": method, "rx": re.compile(path_regex), "status": status, "left": times,
                            "message": message, "headers": headers or {}})

    def head(self, repo_id: str, branch: str | None = None) -> Commit:
        return self.commits[self.repos[repo_id].branches[branch or self.default_branch]]

    def files(self, repo_id: str, branch: str | None = None) -> dict[str, bytes]:
        """path -> content at the head of `branch`."""
        return {p: self.blobs[e.sha256] for p, e in self.head(repo_id, branch).files.items()}

    def history(self, repo_id: str, branch: str | None = None) -> list[Commit]:
        out, sha = [], self.repos[repo_id].branches[branch or self.default_branch]
        while sha:
            out.append(self.commits[sha])
            sha = self.commits[sha].parent
        return out

    def requests(self, method: str | None = None, path_rx: str = "") -> list[dict]:
        return [r for r in self.log if (method is None or r["method"] == method) and re.search(path_rx, r["path"])]

    # -- storage ----------------------------------------------------------------------------------
    def _store(self, content: bytes, lfs: bool) -> Entry:
        sha256 = hashlib.sha256(content).hexdigest()
        self.blobs[sha256] = content
        oid = sha256 if lfs else hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
        return Entry(sha256, len(content), lfs, oid)

    def _new_commit(self, parent: str | None, files: dict[str, Entry], message: str, changes: list[dict]) -> Commit:
        sha = hashlib.sha1(f"{parent}:{message}:{time.time_ns()}:{len(self.commits)}".encode()).hexdigest()
        commit = Commit(sha, parent, files, message, changes)
        self.commits[sha] = commit
        return commit

    def _new_repo(self, repo: Repo, files: dict[str, Entry]) -> None:
        repo.branches[self.default_branch] = self._new_commit(None, files, "initial commit", []).sha
        self.repos[repo.repo_id] = repo

    def _at(self, repo: Repo, rev: str) -> Commit | None:
        """The commit a branch name or a commit sha names, or None."""
        sha = repo.branches.get(rev) or (rev if rev in self.commits else None)
        return None if sha is None else self.commits[sha]

    # -- auth -------------------------------------------------------------------------------------
    def _may_write(self, user: dict | None, namespace: str) -> None:
        if not user:
            raise self.refusal(401, namespace)
        if user["role"] != "write" or namespace not in (user["user"], *user["orgs"]):
            raise self.refusal(403, namespace)

    @staticmethod
    def _sees(user: dict | None, repo: Repo) -> bool:
        return not repo.private or bool(user and repo.repo_id.split("/")[0] in (user["user"], *user["orgs"]))

    # -- listing and serving ----------------------------------------------------------------------
    @staticmethod
    def _listing(files: dict[str, Entry], prefix: str, recursive: bool,
                 parents: bool) -> tuple[list[tuple[str, Entry]], set[str]]:
        """The files under `prefix` (all below it when `recursive`) and the folders to list beside them
        (`parents`: also every folder above a listed file, when recursive)."""
        entries, dirs = [], set()
        for path, e in sorted(files.items()):
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix):]
            if "/" in rest and not recursive:
                dirs.add(prefix + rest.split("/")[0])
                continue
            if recursive and parents:
                folders = rest.split("/")[:-1]
                dirs.update(prefix + "/".join(folders[: i + 1]) for i in range(len(folders)))
            entries.append((path, e))
        return entries, dirs

    @staticmethod
    def _serve(h, data: bytes, headers: dict) -> int:
        """The bytes, or the part a ``Range`` header asks for (206)."""
        rng = h.headers.get("Range")
        if rng and h.command == "GET":
            m = re.match(r"bytes=(\d+)-(\d*)", rng)
            start, end = int(m[1]), int(m[2]) if m[2] else len(data) - 1
            return h._bytes(data[start:end + 1], {**headers, "Content-Range": f"bytes {start}-{end}/{len(data)}"}, 206)
        return h._bytes(data, headers)

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                self._dispatch("GET")

            def do_HEAD(self):
                self._dispatch("HEAD")

            def do_POST(self):
                self._dispatch("POST")

            def do_PUT(self):
                self._dispatch("PUT")

            def do_DELETE(self):
                self._dispatch("DELETE")

            def _dispatch(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                path, query = unquote(parts.path), parse_qs(parts.query)
                entry = {"method": method, "path": path, "query": query, "body": body,
                         "auth": self.headers.get("Authorization"), "cookie": self.headers.get("Cookie")}
                with hub.lock:
                    hub.log.append(entry)
                    for fault in hub.faults:
                        if fault["left"] > 0 and fault["method"] == method and fault["rx"].search(path):
                            fault["left"] -= 1
                            entry["status"] = fault["status"]
                            answer, headers = hub.fault_body(fault["status"], fault["message"])
                            return self._json(answer, fault["status"], {**headers, **fault["headers"]})
                    try:
                        status = hub.route(self, method, path, query, body)
                    except Answer as answer:
                        status = answer.status
                        self._json(answer.body, answer.status, answer.headers)
                    entry["status"] = status

            def _json(self, obj, status: int = 200, headers: dict | None = None) -> int:
                return self._bytes(json.dumps(obj, ensure_ascii=False).encode(),
                                   {"Content-Type": "application/json", **(headers or {})}, status)

            def _bytes(self, data: bytes, headers: dict, status: int = 200) -> int:
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                return status

        return Handler


def serve_forever(hub: StandInBase, port: int | None) -> None:
    """Serve `hub` until killed (on `port` when given), printing its URL first."""
    if port:
        hub.server.server_close()
        hub.server = ThreadingHTTPServer(("127.0.0.1", port), hub._handler())
        hub.server.daemon_threads = True
    print(hub.url, flush=True)
    hub.server.serve_forever()
