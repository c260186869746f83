"""One call to a dataset hub, retried on 5xx / 408 / 429 / connection errors, and its failure as one line.

The Hugging Face push (synth.hub.push) and the ModelScope push (synth.hub.ms_push) differ in their client
libraries, not in how a call is retried or how its failure reads: the loop and the wording live here,
each push says how its client reports a status, a server message and what is worth retrying.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Hub:
    """How one hub's failures are worded and read."""

    name: str                     # "the Hub", "ModelScope"
    endpoint_env: str             # where its address is set
    token_env: str                # where its token is set
    login: str                    # the command that stores a token
    error: type[Exception]        # the one-line error a failure becomes
    retryable: Callable[[Exception], bool | None]  # True: retry; False: an answer to explain; None: not the hub's
    status: Callable[[Exception], int | None]
    server_message: Callable[[Exception], str]
    write_hint: str = ""          # said after "use a token with write access to NS" on 403


class HubCaller:
    """Runs one hub call with retries (waits `backoff_s`, doubling, `attempts` tries in all); failures become
    `hub.error` with one line naming the cause and the fix. The token never appears in a message."""

    def __init__(self, hub: Hub, endpoint: str, repo_id: str, branch: str, token: str, *, attempts: int,
                 backoff_s: float, refuse: Callable[[str, str, Exception], Exception | None] | None = None) -> None:
        self.hub, self.endpoint, self.repo_id, self.branch, self.token = hub, endpoint, repo_id, branch, token
        self.attempts, self.backoff_s, self.refuse = attempts, backoff_s, refuse

    def __call__(self, what: str, fn: Callable[[], T]) -> T:
        wait = self.backoff_s
        for attempt in range(1, self.attempts + 1):
            try:
                return fn()
            except Exception as exc:  # noqa: BLE001 - sorted below: retried, explained, or re-raised
                retry = self.hub.retryable(exc)
                if retry is None:
                    refused = self.refuse(what, self.repo_id, exc) if self.refuse else None
                    if refused is not None:
                        raise refused from None
                    raise
                if not retry or attempt == self.attempts:
                    raise self.explain(what, exc, attempt) from None
                time.sleep(wait)
                wait *= 2
        raise AssertionError("unreachable")

    def explain(self, what: str, exc: Exception, attempts: int) -> Exception:
        hub, status = self.hub, self.hub.status(exc)
        server = self.hub.server_message(exc)
        if self.token:
            server = server.replace(self.token, "***")
        said = f": {server}" if server else ""
        ns = self.repo_id.split("/")[0]
        where = f"{hub.name} at {self.endpoint}"
        if status is None:
            text = (f"cannot reach {where} to {what} ({type(exc).__name__}, {attempts} attempts): check the network "
                    f"or proxy, or {hub.endpoint_env}; nothing was published")
        elif status == 401:
            text = (f"{where} rejected the token (401 Unauthorized{said}): set {hub.token_env} to a valid token "
                    f"with write access, or run `{hub.login}`")
        elif status == 403:
            text = (f"the token may not write to {self.repo_id} (403 Forbidden{said}): use a token with write access "
                    f"to {ns!r}{hub.write_hint}, or push to your own namespace")
        elif status == 404:
            text = (f"{where} has no {self.repo_id} at revision {self.branch!r} (404 Not Found{said}) when trying "
                    f"to {what}: check --repo-id, --revision and {hub.endpoint_env}")
        elif status in (409, 412):
            text = f"{self.repo_id} changed while pushing ({status}{said}): run the same command again"
        elif status >= 500 or status in (408, 429):
            text = (f"{where} failed to {what} with {status} after {attempts} attempts{said}: nothing was published; "
                    "try again later")
        else:
            text = f"{hub.name} refused to {what} for {self.repo_id} ({status}{said})"
        return hub.error(text)
