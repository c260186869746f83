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
``fail(method, path_regex, status, times)``; ``down()`` closes the port. Every request is logged. The
server, storage, auth and faults are standin_base.py's; this module holds ModelScope's routes and wording.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from email.parser import BytesParser
from email.policy import HTTP

from tests.hub.standin_base import Answer, Commit, Entry, Repo, StandInBase, serve_forever

DEFAULT_README = """---
license: Apache License 2.0
---
数据集文件元信息以及数据文件，请浏览"数据集文件"页面获取。

当前数据集卡片使用的是默认模版，数据集的贡献者未提供更加详细的数据集介绍。
"""
PUBLIC, PRIVATE = 5, 1


class StandInModelScope(StandInBase):
    default_branch = "master"

    def __init__(self, tokens: dict[str, dict] | None = None) -> None:
        super().__init__(tokens or {"ms-write": {"user": "me", "orgs": ["acme"], "role": "write"},
                                    "ms-read": {"user": "reader", "orgs": ["acme"], "role": "read"}})

    def fault_body(self, status: int, message: str) -> tuple[dict, dict]:
        return _error(status, message), {}

    def refusal(self, status: int, namespace: str) -> Answer:
        if status == 401:
            return Answer(401, _error(401, "user not logged in, or the token is invalid"))
        return Answer(403, _error(403, f"no write permission on {namespace}"))

    # -- routing ----------------------------------------------------------------------------------
    def route(self, h, method: str, path: str, query: dict, body: bytes) -> int:
        user = self._user(h.headers.get("Authorization"), h.headers.get("Cookie"))
        if path == "/api/v1/login" and method == "POST":
            return self._login(h, json.loads(body or b"{}"))
        if path == "/openapi/v1/users/me" and method == "GET":
            if not user:
                raise Answer(401, {"success": False, "code": "InvalidAuthentication", "message": "invalid token"})
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
                                "Name": repo.repo_id.split("/")[1], "Visibility": PRIVATE if repo.private else PUBLIC,
                                "License": repo.license}))
        raise Answer(404, _error(404, f"no route {method} {path}"))

    def _user(self, auth: str | None, cookie: str | None) -> dict | None:
        token = auth[len("Bearer "):] if auth and auth.startswith("Bearer ") else None
        if token is None and cookie:
            m = re.search(r"(?:^|;\s*)m_session_id=([^;]+)", cookie)
            token = m[1] if m else None
        return self.tokens.get(token) if token else None

    def _readable(self, user: dict | None, repo_id: str) -> Repo:
        repo = self.repos.get(repo_id)
        if repo is None or not self._sees(user, repo):
            raise Answer(404, {**_error(404, "数据集不存在"), "Code": 10020101002})
        return repo

    def _branch(self, repo: Repo, revision: str) -> Commit:
        commit = self._at(repo, revision)
        if commit is None:
            raise Answer(404, _error(404, f"revision {revision} not found"))
        return commit

    def _login(self, h, req: dict) -> int:
        user = self.tokens.get(req.get("AccessToken", ""))
        if not user:
            raise Answer(401, {**_error(401, "AccessToken is invalid or expired"), "Code": 10010103009})
        data = {"AccessToken": f"git-{uuid.uuid4().hex[:8]}", "Username": user["user"],
                "Email": f"{user['user']}@example.com"}
        return h._json(_ok(data), 200, {"Set-Cookie": f"m_session_id={req['AccessToken']}; Path=/"})

    def _create(self, h, user, form: dict) -> int:
        owner, name = form.get("Owner", ""), form.get("Name", "")
        self._may_write(user, owner)
        repo_id = f"{owner}/{name}"
        if repo_id in self.repos:
            raise Answer(400, {**_error(400, "该名称已被注册使用，请重新命名"), "Code": 10020101001})
        visibility = int(form.get("Visibility", PUBLIC))
        repo = Repo(repo_id, private=visibility == PRIVATE, license=form.get("License", "Apache-2.0"))
        attrs = self._store(b"*.parquet filter=lfs diff=lfs merge=lfs -text\n", lfs=False)
        self._new_repo(repo, {".gitattributes": attrs, "README.md": self._store(DEFAULT_README.encode(), lfs=False)})
        return h._json(_ok({"Id": len(self.repos), "Owner": owner, "Name": name, "Visibility": visibility}))

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
            raise Answer(401, _error(401, "user not logged in"))
        if hashlib.sha256(body).hexdigest() != oid:
            raise Answer(400, _error(400, "content does not match its oid"))
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
                    raise Answer(404, _error(404, f"{path} does not exist"))
                del files[path]
            elif action["action"] in ("create", "update"):
                if action["type"] == "lfs":
                    if action["sha256"] not in self.blobs:
                        raise Answer(400, _error(400, f"LFS object {action['sha256']} was never uploaded"))
                    files[path] = Entry(action["sha256"], action["size"], True, oid=action["sha256"])
                else:
                    files[path] = self._store(base64.b64decode(action["content"]), lfs=False)
            else:
                raise Answer(400, _error(400, f"unknown action {action['action']!r}"))
        commit = self._new_commit(head.sha, files, req.get("commit_message", ""), req.get("actions", []))
        repo.branches[revision] = commit.sha
        return h._json(_ok({"CommitId": commit.sha, "CommitMessage": commit.message}))

    def _tree(self, h, repo: Repo, query: dict) -> int:
        commit = self._branch(repo, query.get("Revision", ["master"])[0])
        root = query.get("Root", ["/"])[0].strip("/")
        prefix = f"{root}/" if root else ""
        recursive = query.get("Recursive", ["False"])[0].lower() == "true"
        files, dirs = self._listing(commit.files, prefix, recursive, parents=False)
        entries = [{"Path": path, "Name": path.rsplit("/", 1)[-1], "Type": "blob", "Size": e.size,
                    "Sha256": e.sha256, "IsLFS": e.lfs, "Revision": commit.sha} for path, e in files]
        listing = [{"Path": d, "Name": d.rsplit("/", 1)[-1], "Type": "tree", "Size": 0} for d in sorted(dirs)]
        listing += entries
        page, size = int(query.get("PageNumber", ["1"])[0]), int(query.get("PageSize", ["200"])[0])
        return h._json(_ok({"Files": listing[(page - 1) * size: page * size]}))

    def _file(self, h, repo: Repo, query: dict) -> int:
        commit = self._branch(repo, query.get("Revision", ["master"])[0])
        path = query.get("FilePath", [""])[0]
        e = commit.files.get(path)
        if e is None:
            raise Answer(404, _error(404, f"file {path} not found"))
        data = self.blobs[e.sha256]
        headers = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes", "ETag": f'"{e.sha256}"'}
        return self._serve(h, data, headers)


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


__all__ = ["StandInModelScope"]


if __name__ == "__main__":  # python -m tests.hub.ms_standin [PORT]: serve until killed (tokens ms-write, ms-read)
    import sys

    serve_forever(StandInModelScope(), int(sys.argv[1]) if len(sys.argv) > 1 else None)
