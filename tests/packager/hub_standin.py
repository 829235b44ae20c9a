"""A stand-in for the Hugging Face Hub on 127.0.0.1: the endpoints huggingface_hub calls to read a
dataset repository, commit to it, tag it and download from it. It keeps repositories in memory as
commits of whole file maps and records every request, so tests can check what it received.

Uploads: the preupload answer is "regular" for every file, so huggingface_hub sends each file's bytes
inside the commit's NDJSON (no LFS, no Xet: Xet is only tried for files the Hub calls "lfs")."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml


@dataclass
class Commit:
    sha: str
    files: dict[str, bytes]
    summary: str
    parent: str | None
    added: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


@dataclass
class Repo:
    private: bool
    commits: list[Commit] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def head(self) -> Commit:
        return self.commits[-1]

    def resolve(self, revision: str) -> Commit | None:
        revision = unquote(revision)
        if revision == "main":
            return self.head
        sha = self.tags.get(revision, revision)
        return next((c for c in self.commits if c.sha == sha), None)


def tree(commit: Commit, folder: str, recursive: bool) -> list[dict[str, Any]]:
    """The tree endpoint's answer: files (and, listing one level, folders) under `folder`."""
    prefix = f"{folder.strip('/')}/" if folder.strip("/") else ""
    out: dict[str, dict[str, Any]] = {}
    for path, data in sorted(commit.files.items()):
        if not path.startswith(prefix):
            continue
        rest = path[len(prefix):]
        parts = rest.split("/")
        for i in range(1, len(parts)):
            sub = prefix + "/".join(parts[:i])
            if recursive or i == 1:
                out.setdefault(sub, {"type": "directory", "path": sub, "oid": blob_oid(sub.encode()), "size": 0})
        if recursive or len(parts) == 1:
            out[path] = {"type": "file", "path": path, "size": len(data), "oid": blob_oid(data)}
    return list(out.values())


def blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class HubStandIn:
    """Start with `with HubStandIn(token) as hub:`; `hub.endpoint` goes into HF_ENDPOINT."""

    def __init__(self, token: str = "hf_standin_secret") -> None:
        self.token = token
        self.repos: dict[str, Repo] = {}
        self.requests: list[dict[str, Any]] = []
        self.before_commit: Any = None  # called (with the repo) when a commit arrives: to move main meanwhile
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HubStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def create(self, repo_id: str, files: dict[str, bytes] | None = None, private: bool = False) -> Repo:
        """A repository as the Hub creates it (one commit with .gitattributes), plus `files` if given."""
        repo = Repo(private=private)
        self.repos[repo_id] = repo
        self._commit(repo, {".gitattributes": b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"}, [], "initial commit")
        if files:
            self._commit(repo, files, [], "other files")
        return repo

    def _commit(self, repo: Repo, added: dict[str, bytes], deleted: list[str], summary: str) -> Commit:
        parent = repo.head if repo.commits else None
        files = dict(parent.files) if parent else {}
        for path in deleted:
            files.pop(path, None)
        files.update(added)
        sha = hashlib.sha1(json.dumps([parent.sha if parent else None, summary, sorted(
            (p, blob_oid(d)) for p, d in files.items())]).encode(), usedforsecurity=False).hexdigest()
        commit = Commit(sha, files, summary, parent.sha if parent else None, sorted(added), sorted(deleted))
        repo.commits.append(commit)
        return commit

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None,
                      raw: bytes | None = None) -> None:
                data = raw if raw is not None else json.dumps(body if body is not None else {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/octet-stream" if raw is not None else "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _error(self, status: int, message: str, code: str | None = None) -> None:
                self._send(status, {"error": message}, {"X-Error-Code": code, "X-Error-Message": message}
                           if code else {"X-Error-Message": message})

            def _route(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                auth = self.headers.get("Authorization")
                self.query = url.query
                with hub.lock:
                    hub.requests.append({"method": self.command, "path": url.path, "query": url.query,
                                         "authorized": auth == f"Bearer {hub.token}", "auth": auth, "body": body})
                    self._dispatch(url.path, body, auth == f"Bearer {hub.token}")

            def _repo(self, owner: str, name: str) -> Repo | None:
                repo = hub.repos.get(f"{owner}/{name}")
                if repo is None:
                    self._error(404, "Repository not found", "RepoNotFound")
                return repo

            def _dispatch(self, path: str, body: bytes, authorized: bool) -> None:
                parts = [unquote(p) for p in path.strip("/").split("/")]
                write = self.command in ("POST", "DELETE") and parts[:2] != ["api", "validate-yaml"]
                if write and not authorized:
                    return self._error(401, "Invalid credentials in Authorization header")
                if parts[:3] == ["api", "repos", "create"]:
                    payload = json.loads(body)
                    repo_id = f"{payload['organization']}/{payload['name']}" if payload.get("organization") \
                        else payload["name"]
                    if repo_id in hub.repos:
                        return self._error(409, "You already created this dataset repo")
                    hub.create(repo_id, private=bool(payload.get("private")) or payload.get("visibility") == "private")
                    return self._send(200, {"url": f"{hub.endpoint}/datasets/{repo_id}", "name": repo_id})
                if parts[:2] == ["api", "validate-yaml"]:
                    content = json.loads(body)["content"]
                    try:
                        yaml.safe_load(content.split("---")[1])
                    except (IndexError, yaml.YAMLError) as exc:
                        return self._send(400, {"errors": [{"message": str(exc)}]})
                    return self._send(200, {"errors": [], "warnings": []})
                if parts[:2] == ["api", "datasets"] and len(parts) >= 4:
                    repo = self._repo(parts[2], parts[3])
                    if repo is None:
                        return None
                    return self._api(repo, f"{parts[2]}/{parts[3]}", parts[4:], body)
                if parts[:1] == ["datasets"] and len(parts) >= 6 and parts[3] == "resolve":
                    repo = self._repo(parts[1], parts[2])
                    if repo is None:
                        return None
                    commit = repo.resolve(parts[4])
                    if commit is None:
                        return self._error(404, "Invalid rev id", "RevisionNotFound")
                    data = commit.files.get("/".join(parts[5:]))
                    if data is None:
                        return self._error(404, "Entry not found", "EntryNotFound")
                    return self._send(200, raw=data, headers={"X-Repo-Commit": commit.sha,
                                                              "ETag": f'"{blob_oid(data)}"'})
                return self._error(404, f"no such endpoint {path}")

            def _api(self, repo: Repo, repo_id: str, rest: list[str], body: bytes) -> None:
                if not rest or rest[0] == "revision":
                    commit = repo.resolve(rest[1] if rest else "main")
                    if commit is None:
                        return self._error(404, "Invalid rev id", "RevisionNotFound")
                    return self._send(200, {"id": repo_id, "sha": commit.sha, "private": repo.private,
                                            "siblings": [{"rfilename": p} for p in sorted(commit.files)]})
                if rest[0] == "refs":
                    def ref(name: str, kind: str, sha: str) -> dict[str, str]:
                        return {"name": name, "ref": f"refs/{kind}/{name}", "targetCommit": sha}

                    return self._send(200, {"branches": [ref("main", "heads", repo.head.sha)], "converts": [],
                                            "tags": [ref(t, "tags", sha) for t, sha in sorted(repo.tags.items())]})
                if rest[0] == "tag" and self.command == "DELETE":
                    if repo.tags.pop(rest[1], None) is None:
                        return self._error(404, "Tag not found", "RevisionNotFound")
                    return self._send(200, {})
                commit = repo.resolve(rest[1]) if len(rest) > 1 else None
                if commit is None:
                    return self._error(404, "Invalid rev id", "RevisionNotFound")
                if rest[0] == "tree" and self.command == "GET":
                    return self._send(200, tree(commit, "/".join(rest[2:]), "recursive=true" in self.query.lower()))
                if rest[0] == "paths-info":
                    wanted = json.loads(body).get("paths", [])
                    found = [e for e in tree(commit, "", True) if e["path"] in wanted]
                    return self._send(200, found)
                if rest[0] == "preupload":
                    files = json.loads(body)["files"]
                    return self._send(200, {"files": [{"path": f["path"], "uploadMode": "regular",
                                                       "shouldIgnore": False} for f in files]})
                if rest[0] == "commit":
                    return self._commit(repo, repo_id, body)
                if rest[0] == "tag":
                    tag = json.loads(body)["tag"]
                    if tag in repo.tags:
                        return self._error(409, f"Tag {tag} already exists")
                    repo.tags[tag] = commit.sha
                    return self._send(200, {})
                return self._error(404, f"no such endpoint {rest}")

            def _commit(self, repo: Repo, repo_id: str, body: bytes) -> None:
                if hub.before_commit is not None:
                    hub.before_commit(repo)
                lines = [json.loads(line) for line in body.splitlines() if line.strip()]
                header = lines[0]["value"]
                if header.get("parentCommit") and header["parentCommit"] != repo.head.sha:
                    return self._error(412, "A commit has happened since. Please refresh and try again.")
                added: dict[str, bytes] = {}
                deleted: list[str] = []
                for line in lines[1:]:
                    value = line["value"]
                    if line["key"] == "file":
                        added[value["path"]] = base64.b64decode(value["content"])
                    elif line["key"] == "deletedFile":
                        if value["path"] not in repo.head.files:
                            return self._error(404, "A file with this name doesn't exist", "EntryNotFound")
                        deleted.append(value["path"])
                    else:
                        return self._error(400, f"the stand-in does not take {line['key']}")
                commit = hub._commit(repo, added, deleted, header["summary"])
                return self._send(200, {"commitUrl": f"{hub.endpoint}/datasets/{repo_id}/commit/{commit.sha}",
                                        "commitOid": commit.sha, "pullRequestUrl": None})

            def do_GET(self) -> None:
                self._route()

            def do_HEAD(self) -> None:
                self._route()

            def do_POST(self) -> None:
                self._route()

            def do_DELETE(self) -> None:
                self._route()

        return Handler
