"""A stand-in Hugging Face Hub on 127.0.0.1 that speaks the HTTP endpoints `huggingface_hub` calls.

Point a client at it with ``HF_ENDPOINT`` (or ``huggingface_hub.constants.ENDPOINT`` in-process) and
``HF_HUB_DISABLE_XET=1``: repos are created, preuploaded, LFS objects go through batch / PUT / verify,
commits arrive as NDJSON with adds and deletions, and everything is kept (commit history per branch,
content-addressed blobs) so a test can assert on what arrived. Reads (`repo_info`, tree, paths-info,
resolve) serve `load_dataset` against it too.

Auth: tokens map to a user, their organisations and a role; no or unknown token -> 401, a read token
or a foreign namespace on a write -> 403 with ``X-Error-Message``. Faults: ``fail(method, path_regex,
status, times)`` answers matching requests with that status first. Every request is logged. The
server, storage, auth and faults are standin_base.py's; this module holds the Hub's routes and wording.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from urllib.parse import parse_qs, unquote

import yaml

from tests.hub.standin_base import Answer, Commit, Entry, Repo, StandInBase

LFS_SUFFIXES = (".parquet", ".png", ".arrow", ".bin")


class StandInHub(StandInBase):
    default_branch = "main"

    def __init__(self, tokens: dict[str, dict] | None = None) -> None:
        super().__init__(tokens or {"hf_write": {"user": "me", "orgs": ["acme"], "role": "write"}})

    def fault_body(self, status: int, message: str) -> tuple[dict, dict]:
        return {"error": message}, {"X-Error-Message": message}

    def refusal(self, status: int, namespace: str) -> Answer:
        if status == 401:
            return Answer(401, {"error": "Invalid username or password."},
                          {"X-Error-Message": "Invalid credentials in Authorization header"})
        msg = f"You don't have the rights to write to {namespace}"
        return Answer(403, {"error": msg}, {"X-Error-Message": msg})

    # -- routing ----------------------------------------------------------------------------------
    def route(self, h, method: str, path: str, query: dict, body: bytes) -> int:
        user = self._user(h.headers.get("Authorization"))
        if path == "/api/whoami-v2":
            if not user:
                raise Answer(401, {"error": "Invalid username or password."})
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
        raise Answer(404, {"error": f"no route {method} {path}"})

    def _user(self, auth: str | None) -> dict | None:
        if not auth or not auth.startswith("Bearer "):
            return None
        return self.tokens.get(auth[len("Bearer "):])

    def _repo(self, user: dict | None, repo_id: str) -> Repo:
        repo = self.repos.get(repo_id)
        if repo is None or not self._sees(user, repo):
            raise Answer(404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
        return repo

    def _rev(self, repo: Repo, rev: str) -> Commit:
        commit = self._at(repo, rev)
        if commit is None:
            raise Answer(404, {"error": f"Invalid rev id: {rev}"}, {"X-Error-Code": "RevisionNotFound"})
        return commit

    def _create(self, h, user, req: dict) -> int:
        namespace = req.get("organization") or (user or {}).get("user")
        self._may_write(user, namespace or "")
        repo_id = f"{namespace}/{req['name']}"
        if repo_id in self.repos:
            raise Answer(409, {"error": "You already created this dataset repo", "url": f"{self.url}/datasets/{repo_id}"})
        repo = Repo(repo_id, private=req.get("visibility") == "private" or bool(req.get("private")))
        attrs = self._store(b"*.parquet filter=lfs diff=lfs merge=lfs -text\n", lfs=False)
        self._new_repo(repo, {".gitattributes": attrs})
        return h._json({"url": f"{self.url}/datasets/{repo_id}", "name": repo_id})

    def _validate_yaml(self, h, req: dict) -> int:
        text = req.get("content", "")
        m = re.match(r"^---\n(.*?)\n---\n", text, re.S)
        try:
            meta = yaml.safe_load(m[1]) if m else {}
        except yaml.YAMLError as exc:
            raise Answer(400, {"errors": [{"message": f"Invalid YAML: {exc}"}]})
        if not isinstance(meta, dict):
            raise Answer(400, {"errors": [{"message": "metadata must be a mapping"}]})
        for config in meta.get("configs", []):
            if not isinstance(config, dict) or "config_name" not in config or "data_files" not in config:
                raise Answer(400, {"errors": [{"message": f"bad configs entry {config!r}"}]})
        return h._json({"errors": [], "warnings": []})

    def _api(self, h, method, user, repo_id, rest, query, body) -> int:
        if rest.startswith("xet-write-token/"):
            raise Answer(501, {"error": "Xet is not emulated: run the client with HF_HUB_DISABLE_XET=1"})
        if method == "GET" and (rest == "" or rest.startswith("revision/")):
            repo = self._repo(user, repo_id)
            commit = self._rev(repo, rest[len("revision/"):] if rest else "main")
            return h._json({"id": repo_id, "sha": commit.sha, "private": repo.private, "disabled": False,
                            "gated": False, "downloads": 0, "likes": 0, "tags": [],
                            "lastModified": "2026-01-01T00:00:00.000Z",
                            "siblings": [{"rfilename": p} for p in sorted(commit.files)]})
        m = re.match(r"^(preupload|commit|branch|tree|paths-info)/([^/]+)(?:/(.*))?$", rest)
        if not m:
            raise Answer(404, {"error": f"no route {rest}"})
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
                raise Answer(409, {"error": "Reference already exists"})
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
            raise Answer(412, {"error": "A commit has happened since. Please refresh and try again."})
        files = dict(head.files)
        for line in lines[1:]:
            key, value = line["key"], line["value"]
            if key == "file":
                files[value["path"]] = self._store(base64.b64decode(value["content"]), lfs=False)
            elif key == "lfsFile":
                if value["oid"] not in self.blobs:
                    raise Answer(422, {"error": f"LFS object {value['oid']} was never uploaded"})
                files[value["path"]] = Entry(value["oid"], value["size"], True, oid=value["oid"])
            elif key == "deletedFile":
                if value["path"] not in files:
                    raise Answer(404, {"error": f"{value['path']} does not exist"}, {"X-Error-Code": "EntryNotFound"})
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
                raise Answer(400, {"error": "content does not match its oid"})
            self.blobs[oid] = body
            return h._bytes(b"", {})
        if oid not in self.blobs or json.loads(body).get("size") != len(self.blobs[oid]):
            raise Answer(404, {"error": "object not uploaded"})
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
        files, dirs = self._listing(commit.files, prefix, recursive, parents=True)
        if sub and not files and not dirs:
            raise Answer(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
        listing = [{"type": "directory", "oid": hashlib.sha1(d.encode()).hexdigest(), "size": 0, "path": d}
                   for d in sorted(dirs)] + [self._tree_entry(path, e) for path, e in files]
        return h._json(listing)

    def _resolve(self, h, user, repo_id, rev, path) -> int:
        repo = self._repo(user, repo_id)
        commit = self._rev(repo, unquote(rev))
        e = commit.files.get(path)
        if e is None:
            raise Answer(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
        data = self.blobs[e.sha256]
        headers = {"ETag": f'"{e.oid}"', "X-Repo-Commit": commit.sha, "Content-Type": "application/octet-stream",
                   "Accept-Ranges": "bytes"}
        if e.lfs:
            headers["X-Linked-Etag"] = f'"{e.sha256}"'
            headers["X-Linked-Size"] = str(e.size)
        return self._serve(h, data, headers)


__all__ = ["StandInHub"]
