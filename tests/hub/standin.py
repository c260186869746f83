"""A stand-in Hugging Face Hub on 127.0.0.1 that speaks the HTTP endpoints `huggingface_hub` calls.

Point a client at it with ``HF_ENDPOINT`` (or ``huggingface_hub.constants.ENDPOINT`` in-process) and
``HF_HUB_DISABLE_XET=1``: repos are created, preuploaded, LFS objects go through batch / PUT / verify,
commits arrive as NDJSON with adds and deletions, and everything is kept (commit history per branch,
content-addressed blobs) so a test can assert on what arrived. Reads (`repo_info`, tree, paths-info,
resolve) serve `load_dataset` against it too.

Auth: tokens map to a user, their organisations and a role; no or unknown token -> 401, a read token
or a foreign namespace on a write -> 403 with ``X-Error-Message``. Faults: ``fail(method, path_regex,
status, times)`` answers matching requests with that status first. Every request is logged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

LFS_SUFFIXES = (".parquet", ".png", ".arrow", ".bin")


@dataclass
class Entry:
    oid: str          # git sha1 of the content (regular) or its sha256 (lfs)
    size: int
    lfs: bool
    sha256: str


@dataclass
class Commit:
    sha: str
    parent: str | None
    files: dict[str, Entry]
    summary: str
    operations: list[dict] = field(default_factory=list)


@dataclass
class Repo:
    repo_id: str
    private: bool
    branches: dict[str, str] = field(default_factory=dict)


class StandInHub:
    def __init__(self, tokens: dict[str, dict] | None = None) -> None:
        # token -> {"user": name, "orgs": [...], "role": "write" | "read"}
        self.tokens = tokens or {"hf_write": {"user": "me", "orgs": ["acme"], "role": "write"}}
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
        self.server.shutdown()
        self.server.server_close()

    # -- test hooks -------------------------------------------------------------------------------
    def fail(self, method: str, path_regex: str, status: int, times: int = 1_000_000, message: str = "injected",
             headers: dict | None = None) -> None:
        self.faults.append({"method": method, "rx": re.compile(path_regex), "status": status, "left": times,
                            "message": message, "headers": headers or {}})

    def head(self, repo_id: str, branch: str = "main") -> Commit:
        return self.commits[self.repos[repo_id].branches[branch]]

    def files(self, repo_id: str, branch: str = "main") -> dict[str, bytes]:
        """path -> content at the head of `branch`."""
        return {p: self.blobs[e.sha256] for p, e in self.head(repo_id, branch).files.items()}

    def history(self, repo_id: str, branch: str = "main") -> list[Commit]:
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
        oid = sha256 if lfs else hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
        return Entry(oid, len(content), lfs, sha256)

    def _new_commit(self, parent: str | None, files: dict[str, Entry], summary: str, ops: list[dict]) -> Commit:
        sha = hashlib.sha1(f"{parent}:{summary}:{time.time_ns()}:{len(self.commits)}".encode()).hexdigest()
        commit = Commit(sha, parent, files, summary, ops)
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

            def _dispatch(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                path, query = unquote(parts.path), parse_qs(parts.query)
                entry = {"method": method, "path": path, "query": query, "body": body,
                         "auth": self.headers.get("Authorization")}
                with hub.lock:
                    hub.log.append(entry)
                    for fault in hub.faults:
                        if fault["left"] > 0 and fault["method"] == method and fault["rx"].search(path):
                            fault["left"] -= 1
                            entry["status"] = fault["status"]
                            return self._json({"error": fault["message"]}, fault["status"],
                                              {"X-Error-Message": fault["message"], **fault["headers"]})
                    try:
                        status = hub.route(self, method, path, query, body)
                    except _Answer as answer:
                        status = answer.status
                        self._json(answer.body, answer.status, answer.headers)
                    entry["status"] = status

            def _json(self, obj, status: int = 200, headers: dict | None = None) -> int:
                data = json.dumps(obj).encode()
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
        user = self._user(h.headers.get("Authorization"))
        if path == "/api/whoami-v2":
            if not user:
                raise _Answer(401, {"error": "Invalid username or password."})
            return h._json({"type": "user", "name": user["user"], "orgs": [{"name": o} for o in user["orgs"]],
                            "auth": {"accessToken": {"role": user["role"]}}})
        if path == "/api/agent-harnesses":
            return h._json({"standardEnvVars": [], "harnesses": {}})
        if path == "/api/repos/create" and method == "POST":
            return self._create(h, user, json.loads(body or b"{}"))
        if path == "/api/validate-yaml" and method == "POST":
            return self._validate_yaml(h, json.loads(body))
        m = re.match(r"^/api/datasets/([^/]+/[^/]+)(?:/(.*))?$", path)
        if m:
            return self._api(h, method, user, m[1], m[2] or "", query, body)
        m = re.match(r"^/datasets/([^/]+/[^/]+)\.git/info/lfs/objects/batch$", path)
        if m and method == "POST":
            return self._lfs_batch(h, user, m[1], json.loads(body))
        m = re.match(r"^/lfs-(upload|verify)/([0-9a-f]{64})$", path)
        if m:
            return self._lfs_object(h, m[1], m[2], body)
        m = re.match(r"^/datasets/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$", path)
        if m and method in ("GET", "HEAD"):
            return self._resolve(h, user, m[1], m[2], m[3])
        raise _Answer(404, {"error": f"no route {method} {path}"})

    def _user(self, auth: str | None) -> dict | None:
        if not auth or not auth.startswith("Bearer "):
            return None
        return self.tokens.get(auth[len("Bearer "):])

    def _may_write(self, user: dict | None, namespace: str) -> None:
        if not user:
            raise _Answer(401, {"error": "Invalid username or password."},
                          {"X-Error-Message": "Invalid credentials in Authorization header"})
        if user["role"] != "write" or namespace not in (user["user"], *user["orgs"]):
            msg = f"You don't have the rights to write to {namespace}"
            raise _Answer(403, {"error": msg}, {"X-Error-Message": msg})

    def _repo(self, user: dict | None, repo_id: str) -> Repo:
        repo = self.repos.get(repo_id)
        if repo is None or (repo.private and (not user or repo_id.split("/")[0] not in (user["user"], *user["orgs"]))):
            raise _Answer(404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
        return repo

    def _rev(self, repo: Repo, rev: str) -> Commit:
        sha = repo.branches.get(rev) or (rev if rev in self.commits else None)
        if sha is None:
            raise _Answer(404, {"error": f"Invalid rev id: {rev}"}, {"X-Error-Code": "RevisionNotFound"})
        return self.commits[sha]

    def _create(self, h, user, req: dict) -> int:
        namespace = req.get("organization") or (user or {}).get("user")
        self._may_write(user, namespace or "")
        repo_id = f"{namespace}/{req['name']}"
        if repo_id in self.repos:
            raise _Answer(409, {"error": "You already created this dataset repo", "url": f"{self.url}/datasets/{repo_id}"})
        repo = Repo(repo_id, private=req.get("visibility") == "private" or bool(req.get("private")))
        attrs = self._store(b"*.parquet filter=lfs diff=lfs merge=lfs -text\n", lfs=False)
        repo.branches["main"] = self._new_commit(None, {".gitattributes": attrs}, "initial commit", []).sha
        self.repos[repo_id] = repo
        return h._json({"url": f"{self.url}/datasets/{repo_id}", "name": repo_id})

    def _validate_yaml(self, h, req: dict) -> int:
        text = req.get("content", "")
        m = re.match(r"^---\n(.*?)\n---\n", text, re.S)
        try:
            meta = yaml.safe_load(m[1]) if m else {}
        except yaml.YAMLError as exc:
            raise _Answer(400, {"errors": [{"message": f"Invalid YAML: {exc}"}]})
        if not isinstance(meta, dict):
            raise _Answer(400, {"errors": [{"message": "metadata must be a mapping"}]})
        for config in meta.get("configs", []):
            if not isinstance(config, dict) or "config_name" not in config or "data_files" not in config:
                raise _Answer(400, {"errors": [{"message": f"bad configs entry {config!r}"}]})
        return h._json({"errors": [], "warnings": []})

    def _api(self, h, method, user, repo_id, rest, query, body) -> int:
        if rest.startswith("xet-write-token/"):
            raise _Answer(501, {"error": "Xet is not emulated: run the client with HF_HUB_DISABLE_XET=1"})
        if method == "GET" and (rest == "" or rest.startswith("revision/")):
            repo = self._repo(user, repo_id)
            commit = self._rev(repo, rest[len("revision/"):] if rest else "main")
            return h._json({"id": repo_id, "sha": commit.sha, "private": repo.private, "disabled": False,
                            "gated": False, "downloads": 0, "likes": 0, "tags": [],
                            "lastModified": "2026-01-01T00:00:00.000Z",
                            "siblings": [{"rfilename": p} for p in sorted(commit.files)]})
        m = re.match(r"^(preupload|commit|branch|tree|paths-info)/([^/]+)(?:/(.*))?$", rest)
        if not m:
            raise _Answer(404, {"error": f"no route {rest}"})
        kind, rev, sub = m[1], m[2], m[3] or ""
        repo = self._repo(user, repo_id)
        if kind == "tree":
            return self._tree(h, repo, rev, sub, query)
        if kind == "paths-info":
            commit = self._rev(repo, rev)
            form = parse_qs(body.decode())
            paths = form.get("paths", [])
            return h._json([self._tree_entry(p, commit.files[p]) for p in paths if p in commit.files])
        self._may_write(user, repo_id.split("/")[0])
        if kind == "branch":
            if rev in repo.branches:
                raise _Answer(409, {"error": "Reference already exists"})
            start = json.loads(body or b"{}").get("startingPoint") or "main"
            repo.branches[rev] = self._rev(repo, start).sha
            return h._json({})
        commit = self._rev(repo, rev)
        if kind == "preupload":
            files = json.loads(body)["files"]
            out = []
            for f in files:
                lfs = f["path"].endswith(LFS_SUFFIXES) or f["size"] > 1_000_000
                remote = commit.files.get(f["path"])
                oid = remote.oid if remote and remote.lfs == lfs else None
                out.append({"path": f["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False,
                            "oid": oid})
            return h._json({"files": out, "commitOid": commit.sha})
        return self._commit(h, repo, rev, commit, body)

    def _commit(self, h, repo, rev, head, body) -> int:
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        header = lines[0]["value"]
        if header.get("parentCommit") and header["parentCommit"] != head.sha:
            raise _Answer(412, {"error": "A commit has happened since. Please refresh and try again."})
        files = dict(head.files)
        for line in lines[1:]:
            key, value = line["key"], line["value"]
            if key == "file":
                files[value["path"]] = self._store(base64.b64decode(value["content"]), lfs=False)
            elif key == "lfsFile":
                if value["oid"] not in self.blobs:
                    raise _Answer(422, {"error": f"LFS object {value['oid']} was never uploaded"})
                files[value["path"]] = Entry(value["oid"], value["size"], True, value["oid"])
            elif key == "deletedFile":
                if value["path"] not in files:
                    raise _Answer(404, {"error": f"{value['path']} does not exist"}, {"X-Error-Code": "EntryNotFound"})
                del files[value["path"]]
            elif key == "deletedFolder":
                files = {p: e for p, e in files.items() if not p.startswith(value["path"].rstrip("/") + "/")}
        commit = self._new_commit(head.sha, files, header.get("summary", ""), lines[1:])
        repo.branches[rev] = commit.sha
        return h._json({"commitOid": commit.sha, "commitUrl": f"{self.url}/datasets/{repo.repo_id}/commit/{commit.sha}"})

    def _lfs_batch(self, h, user, repo_id, req) -> int:
        self._may_write(user, repo_id.split("/")[0])
        self._repo(user, repo_id)
        objects = []
        for obj in req["objects"]:
            entry = {"oid": obj["oid"], "size": obj["size"]}
            if obj["oid"] not in self.blobs:
                entry["actions"] = {"upload": {"href": f"{self.url}/lfs-upload/{obj['oid']}"},
                                    "verify": {"href": f"{self.url}/lfs-verify/{obj['oid']}"}}
            objects.append(entry)
        data = json.dumps({"transfer": "basic", "objects": objects}).encode()
        return h._bytes(data, {"Content-Type": "application/vnd.git-lfs+json"})

    def _lfs_object(self, h, action, oid, body) -> int:
        if action == "upload":
            if hashlib.sha256(body).hexdigest() != oid:
                raise _Answer(400, {"error": "content does not match its oid"})
            self.blobs[oid] = body
            return h._bytes(b"", {})
        if oid not in self.blobs or json.loads(body).get("size") != len(self.blobs[oid]):
            raise _Answer(404, {"error": "object not uploaded"})
        return h._json({})

    def _tree_entry(self, path: str, e: Entry) -> dict:
        out = {"type": "file", "oid": e.oid if not e.lfs else hashlib.sha1(e.oid.encode()).hexdigest(),
               "size": e.size, "path": path}
        if e.lfs:
            out["lfs"] = {"oid": e.sha256, "size": e.size, "pointerSize": 134}
        return out

    def _tree(self, h, repo, rev, sub, query) -> int:
        commit = self._rev(repo, rev)
        prefix = sub.rstrip("/") + "/" if sub else ""
        recursive = query.get("recursive", ["false"])[0].lower() == "true"
        entries, dirs = [], set()
        for path, e in sorted(commit.files.items()):
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix):]
            if "/" in rest and not recursive:
                dirs.add(prefix + rest.split("/")[0])
                continue
            if recursive:
                parts = rest.split("/")[:-1]
                dirs.update(prefix + "/".join(parts[: i + 1]) for i in range(len(parts)))
            entries.append(self._tree_entry(path, e))
        if sub and not entries and not dirs:
            raise _Answer(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
        listing = [{"type": "directory", "oid": hashlib.sha1(d.encode()).hexdigest(), "size": 0, "path": d}
                   for d in sorted(dirs)] + entries
        return h._json(listing)

    def _resolve(self, h, user, repo_id, rev, path) -> int:
        repo = self._repo(user, repo_id)
        commit = self._rev(repo, unquote(rev))
        e = commit.files.get(path)
        if e is None:
            raise _Answer(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
        data = self.blobs[e.sha256]
        headers = {"ETag": f'"{e.oid}"', "X-Repo-Commit": commit.sha, "Content-Type": "application/octet-stream",
                   "Accept-Ranges": "bytes"}
        if e.lfs:
            headers["X-Linked-Etag"] = f'"{e.sha256}"'
            headers["X-Linked-Size"] = str(e.size)
        rng = h.headers.get("Range")
        if rng and h.command == "GET":
            m = re.match(r"bytes=(\d+)-(\d*)", rng)
            start, end = int(m[1]), int(m[2]) if m[2] else len(data) - 1
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return h._bytes(data[start:end + 1], headers, 206)
        return h._bytes(data, headers)


class _Answer(Exception):
    def __init__(self, status: int, body: dict, headers: dict | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


__all__ = ["StandInHub"]
