"""A stand-in ModelScope Hub on 127.0.0.1 that speaks the HTTP endpoints ModelScope's client calls.

ModelScope's Python client (`modelscope` 1.40, whose hub client is `modelscope_hub` 0.5) talks to the
"legacy" ``/api/v1`` surface for dataset repos; these routes are what its source sends (read from
``modelscope_hub/_legacy_api.py``, ``_upload.py``, ``_download.py`` and ``api.py``):

- ``POST /api/v1/login`` ``{"AccessToken"}`` -> ``Data {AccessToken (git token), Username, Email}`` and the
  ``m_session_id`` cookie (``modelscope login --token``); ``GET /openapi/v1/users/me`` (Bearer) -> ``data``.
- ``POST /api/v1/datasets``: multipart form ``Owner, Name, Visibility (1 private / 5 public), License`` ->
  ``Data``; a name that exists -> 400 with business ``Code`` 10020101001 (the client's AlreadyExistsError).
- ``GET /api/v1/datasets/{owner}/{name}`` -> ``Data {Id, Owner, Name, Visibility, License}``.
- ``GET /api/v1/datasets/{owner}/{name}/repo/tree?Revision&Recursive&PageNumber&PageSize[&Root]`` ->
  ``Data {Files: [{Path, Name, Type: blob|tree, Size, Sha256, IsLFS, Revision}]}``, paged.
- ``POST /api/v1/repos/datasets/{owner}/{name}/info/lfs/objects/batch`` ``{"operation": "upload",
  "objects": [{oid, size}]}`` -> ``{"objects": [{oid, size, actions: {upload: {href}}}]}``; an object
  already stored has no ``actions`` (the client then skips its upload).
- ``PUT <href>``: the raw bytes (``Authorization`` and ``Cookie: m_session_id`` headers), checked against the oid.
- ``POST /api/v1/repos/datasets/{owner}/{name}/commit/{revision}`` ``{"commit_message", "actions": [{action:
  create|update|delete, path, type: normal|lfs, size, sha256, content (base64), encoding}]}`` -> ``Data``.
- ``GET /api/v1/datasets/{owner}/{name}/repo?Revision&FilePath`` -> the file's bytes (``Range`` honoured).

Auth: ``Authorization: Bearer <token>`` or the ``m_session_id`` cookie. No or unknown token on a write -> 401,
a read token or a foreign namespace -> 403; a private repo is 404 to others. Errors answer like the
legacy API: ``{"Code", "Message", "RequestId", "Success": false}`` with the HTTP status. Faults:
``fail(method, path_regex, status, times)``; ``down()`` closes the port. Every request is logged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_README = """---
license: Apache License 2.0
---
数据集文件元信息以及数据文件，请浏览"数据集文件"页面获取。

当前数据集卡片使用的是默认模版，数据集的贡献者未提供更加详细的数据集介绍。
"""
PUBLIC, PRIVATE = 5, 1


@dataclass
class Entry:
    sha256: str
    size: int
    lfs: bool


@dataclass
class Commit:
    sha: str
    parent: str | None
    files: dict[str, Entry]
    message: str
    actions: list[dict] = field(default_factory=list)


@dataclass
class Repo:
    repo_id: str
    visibility: int
    license: str
    branches: dict[str, str] = field(default_factory=dict)


class StandInModelScope:
    def __init__(self, tokens: dict[str, dict] | None = None) -> None:
        # token -> {"user": name, "orgs": [...], "role": "write" | "read"}
        self.tokens = tokens or {"ms-write": {"user": "me", "orgs": ["acme"], "role": "write"},
                                 "ms-read": {"user": "reader", "orgs": ["acme"], "role": "read"}}
        self.repos: dict[str, Repo] = {}
        self.commits: dict[str, Commit] = {}
        self.blobs: dict[str, bytes] = {}   # sha256 -> bytes
        self.log: list[dict] = []
        self.faults: list[dict] = []
        self.lock = threading.RLock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

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

    def head(self, repo_id: str, branch: str = "master") -> Commit:
        return self.commits[self.repos[repo_id].branches[branch]]

    def files(self, repo_id: str, branch: str = "master") -> dict[str, bytes]:
        """path -> content at the head of `branch`."""
        return {p: self.blobs[e.sha256] for p, e in self.head(repo_id, branch).files.items()}

    def history(self, repo_id: str, branch: str = "master") -> list[Commit]:
        out, sha = [], self.repos[repo_id].branches[branch]
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
        return Entry(sha256, len(content), lfs)

    def _new_commit(self, parent: str | None, files: dict[str, Entry], message: str, actions: list[dict]) -> Commit:
        sha = hashlib.sha1(f"{parent}:{message}:{time.time_ns()}:{len(self.commits)}".encode()).hexdigest()
        commit = Commit(sha, parent, files, message, actions)
        self.commits[sha] = commit
        return commit

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
                            return self._json(_error(fault["status"], fault["message"]), fault["status"],
                                              fault["headers"])
                    try:
                        status = hub.route(self, method, path, query, body)
                    except _Answer as answer:
                        status = answer.status
                        self._json(answer.body, answer.status, answer.headers)
                    entry["status"] = status

            def _json(self, obj, status: int = 200, headers: dict | None = None) -> int:
                data = json.dumps(obj, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                return status

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

    # -- routing ----------------------------------------------------------------------------------
    def route(self, h, method: str, path: str, query: dict, body: bytes) -> int:
        user = self._user(h.headers.get("Authorization"), h.headers.get("Cookie"))
        if path == "/api/v1/login" and method == "POST":
            return self._login(h, json.loads(body or b"{}"))
        if path == "/openapi/v1/users/me" and method == "GET":
            if not user:
                raise _Answer(401, {"success": False, "code": "InvalidAuthentication", "message": "invalid token"})
            return h._json({"success": True, "data": {"username": user["user"], "email": f"{user['user']}@example.com"}})
        if path == "/api/v1/datasets" and method == "POST":
            return self._create(h, user, _form(h.headers.get("Content-Type", ""), body))
        m = re.match(r"^/api/v1/repos/datasets/([^/]+/[^/]+)/info/lfs/objects/batch$", path)
        if m and method == "POST":
            return self._lfs_batch(h, user, m[1], json.loads(body))
        m = re.match(r"^/api/v1/repos/datasets/([^/]+/[^/]+)/commit/(.+)$", path)
        if m and method == "POST":
            return self._commit(h, user, m[1], m[2], json.loads(body))
        m = re.match(r"^/lfs-upload/([0-9a-f]{64})$", path)
        if m and method == "PUT":
            return self._blob(h, user, m[1], body)
        m = re.match(r"^/api/v1/datasets/([^/]+/[^/]+)(/repo/tree|/repo)?$", path)
        if m and method in ("GET", "HEAD"):
            repo = self._readable(user, m[1])
            if m[2] == "/repo/tree":
                return self._tree(h, repo, query)
            if m[2] == "/repo":
                return self._file(h, repo, query)
            return h._json(_ok({"Id": hash(repo.repo_id) & 0xFFFF, "Owner": repo.repo_id.split("/")[0],
                                "Name": repo.repo_id.split("/")[1], "Visibility": repo.visibility,
                                "License": repo.license}))
        raise _Answer(404, _error(404, f"no route {method} {path}"))

    def _user(self, auth: str | None, cookie: str | None) -> dict | None:
        token = auth[len("Bearer "):] if auth and auth.startswith("Bearer ") else None
        if token is None and cookie:
            m = re.search(r"(?:^|;\s*)m_session_id=([^;]+)", cookie)
            token = m[1] if m else None
        return self.tokens.get(token) if token else None

    def _may_write(self, user: dict | None, namespace: str) -> None:
        if not user:
            raise _Answer(401, _error(401, "user not logged in, or the token is invalid"))
        if user["role"] != "write" or namespace not in (user["user"], *user["orgs"]):
            raise _Answer(403, _error(403, f"no write permission on {namespace}"))

    def _readable(self, user: dict | None, repo_id: str) -> Repo:
        repo = self.repos.get(repo_id)
        if repo is None or (repo.visibility == PRIVATE and (not user or repo_id.split("/")[0]
                                                            not in (user["user"], *user["orgs"]))):
            raise _Answer(404, {**_error(404, "数据集不存在"), "Code": 10020101002})
        return repo

    def _branch(self, repo: Repo, revision: str) -> Commit:
        sha = repo.branches.get(revision) or (revision if revision in self.commits else None)
        if sha is None:
            raise _Answer(404, _error(404, f"revision {revision} not found"))
        return self.commits[sha]

    def _login(self, h, req: dict) -> int:
        user = self.tokens.get(req.get("AccessToken", ""))
        if not user:
            raise _Answer(401, {**_error(401, "AccessToken is invalid or expired"), "Code": 10010103009})
        data = {"AccessToken": f"git-{uuid.uuid4().hex[:8]}", "Username": user["user"],
                "Email": f"{user['user']}@example.com"}
        return h._json(_ok(data), 200, {"Set-Cookie": f"m_session_id={req['AccessToken']}; Path=/"})

    def _create(self, h, user, form: dict) -> int:
        owner, name = form.get("Owner", ""), form.get("Name", "")
        self._may_write(user, owner)
        repo_id = f"{owner}/{name}"
        if repo_id in self.repos:
            raise _Answer(400, {**_error(400, "该名称已被注册使用，请重新命名"), "Code": 10020101001})
        repo = Repo(repo_id, int(form.get("Visibility", PUBLIC)), form.get("License", "Apache-2.0"))
        files = {".gitattributes": self._store(b"*.parquet filter=lfs diff=lfs merge=lfs -text\n", lfs=False),
                 "README.md": self._store(DEFAULT_README.encode(), lfs=False)}
        repo.branches["master"] = self._new_commit(None, files, "initial commit", []).sha
        self.repos[repo_id] = repo
        return h._json(_ok({"Id": len(self.repos), "Owner": owner, "Name": name, "Visibility": repo.visibility}))

    def _lfs_batch(self, h, user, repo_id, req) -> int:
        self._may_write(user, repo_id.split("/")[0])
        self._readable(user, repo_id)
        objects = []
        for obj in req["objects"]:
            entry = {"oid": obj["oid"], "size": obj["size"]}
            if obj["oid"] not in self.blobs:
                entry["actions"] = {"upload": {"href": f"{self.url}/lfs-upload/{obj['oid']}"}}
            objects.append(entry)
        return h._json({"objects": objects})

    def _blob(self, h, user, oid, body) -> int:
        if not user:
            raise _Answer(401, _error(401, "user not logged in"))
        if hashlib.sha256(body).hexdigest() != oid:
            raise _Answer(400, _error(400, "content does not match its oid"))
        self.blobs[oid] = body
        return h._bytes(b"", {})

    def _commit(self, h, user, repo_id, revision, req) -> int:
        self._may_write(user, repo_id.split("/")[0])
        repo = self._readable(user, repo_id)
        head = self._branch(repo, revision)
        files = dict(head.files)
        for action in req.get("actions", []):
            path = action["path"]
            if action["action"] == "delete":
                if path not in files:
                    raise _Answer(404, _error(404, f"{path} does not exist"))
                del files[path]
            elif action["action"] in ("create", "update"):
                if action["type"] == "lfs":
                    if action["sha256"] not in self.blobs:
                        raise _Answer(400, _error(400, f"LFS object {action['sha256']} was never uploaded"))
                    files[path] = Entry(action["sha256"], action["size"], True)
                else:
                    files[path] = self._store(base64.b64decode(action["content"]), lfs=False)
            else:
                raise _Answer(400, _error(400, f"unknown action {action['action']!r}"))
        commit = self._new_commit(head.sha, files, req.get("commit_message", ""), req.get("actions", []))
        repo.branches[revision] = commit.sha
        return h._json(_ok({"CommitId": commit.sha, "CommitMessage": commit.message}))

    def _tree(self, h, repo: Repo, query: dict) -> int:
        commit = self._branch(repo, query.get("Revision", ["master"])[0])
        root = query.get("Root", ["/"])[0].strip("/")
        prefix = f"{root}/" if root else ""
        recursive = query.get("Recursive", ["False"])[0].lower() == "true"
        entries, dirs = [], set()
        for path, e in sorted(commit.files.items()):
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix):]
            if "/" in rest and not recursive:
                dirs.add(prefix + rest.split("/")[0])
                continue
            entries.append({"Path": path, "Name": path.rsplit("/", 1)[-1], "Type": "blob", "Size": e.size,
                            "Sha256": e.sha256, "IsLFS": e.lfs, "Revision": commit.sha})
        listing = [{"Path": d, "Name": d.rsplit("/", 1)[-1], "Type": "tree", "Size": 0} for d in sorted(dirs)]
        listing += entries
        page, size = int(query.get("PageNumber", ["1"])[0]), int(query.get("PageSize", ["200"])[0])
        return h._json(_ok({"Files": listing[(page - 1) * size: page * size]}))

    def _file(self, h, repo: Repo, query: dict) -> int:
        commit = self._branch(repo, query.get("Revision", ["master"])[0])
        path = query.get("FilePath", [""])[0]
        e = commit.files.get(path)
        if e is None:
            raise _Answer(404, _error(404, f"file {path} not found"))
        data = self.blobs[e.sha256]
        headers = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes", "ETag": f'"{e.sha256}"'}
        rng = h.headers.get("Range")
        if rng and h.command == "GET":
            m = re.match(r"bytes=(\d+)-(\d*)", rng)
            start, end = int(m[1]), int(m[2]) if m[2] else len(data) - 1
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return h._bytes(data[start:end + 1], headers, 206)
        return h._bytes(data, headers)


def _ok(data) -> dict:
    return {"Code": 200, "Data": data, "Message": "success", "RequestId": uuid.uuid4().hex, "Success": True}


def _error(status: int, message: str) -> dict:
    return {"Code": status, "Message": message, "RequestId": uuid.uuid4().hex, "Success": False}


def _form(content_type: str, body: bytes) -> dict[str, str]:
    """The fields of a multipart/form-data body (what `requests` sends for ``files={k: (None, v)}``)."""
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    return {part.get_param("name", header="content-disposition"): part.get_content().strip()
            if isinstance(part.get_content(), str) else part.get_content().decode()
            for part in message.iter_parts()}


class _Answer(Exception):
    def __init__(self, status: int, body: dict, headers: dict | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


__all__ = ["StandInModelScope"]


if __name__ == "__main__":  # python -m tests.hub.ms_standin [PORT]: serve until killed (tokens ms-write, ms-read)
    import sys

    hub = StandInModelScope()
    if len(sys.argv) > 1:
        hub.server.server_close()
        hub.server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), hub._handler())
        hub.server.daemon_threads = True
    print(hub.url, flush=True)
    hub.server.serve_forever()
