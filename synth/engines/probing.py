"""What an OpenAI-compatible server serves and supports, asked once per engine: its models, which
server it is (vLLM, llama-cpp-python, another), `n` > 1, how it takes a JSON schema, raw completions,
logprobs and vLLM's `/metrics`; and the request fields that carry a JSON schema to each kind of server.

Probes are single requests without retries and count in `stats.requests` like any request. `synth
serve-check` probes everything (`probe_all`); a run probes what it needs when it needs it.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import aiohttp

from synth.engines.base import Capabilities
from synth.errors import EngineError, EngineUnavailable

_PROBE_SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
# llama-cpp-python's server: serves one request at a time, ignores `n`, takes a schema via json_object.
LLAMA_CPP_CAPABILITIES = dict(native_n=False, json_schema="json_object_schema", completions=True,
                              logprobs=True, metrics=False, server="llama-cpp-python")


class ServerProbes:
    """The probing half of synth.engines.openai_http.OpenAIEngine: it asks through the engine's session
    and fills the engine's `capabilities`."""

    async def _connect(self) -> None:
        models = await self._list_models()
        self.capabilities.models = [m.get("id", "") for m in models]
        self._owners = {m.get("owned_by") for m in models}
        if not self.model:
            if not models:
                raise EngineError(f"{self.base_url} lists no models: pass --model NAME")
            self.model = models[0]["id"]
        elif self.capabilities.models and self.model not in self.capabilities.models:
            raise EngineError(f"model {self.model!r} is not served at {self.base_url} "
                              f"(served: {', '.join(self.capabilities.models)}): fix --model")
        owners = self._owners
        if "me" in owners or self.capabilities.server == "llama-cpp-python":
            for k, v in LLAMA_CPP_CAPABILITIES.items():
                setattr(self.capabilities, k, v)
        elif self.probe:
            self.capabilities.server = "vllm" if "vllm" in owners else "openai-compatible"
            if self.capabilities.server == "vllm":
                # vLLM's own field, the same on every release since the guided_* fields went (0.12)
                self.capabilities.json_schema = "structured_outputs"
                self.capabilities.completions = True
                self.capabilities.logprobs = True  # chat logprobs / top_logprobs (at most --max-logprobs, 20)
                self.capabilities.version = await self._read_version()
            self.capabilities.native_n = await self._probe_n()
            self.capabilities.metrics = await self._probe_metrics()
            if self.capabilities.metrics:
                self._watch = asyncio.create_task(self._watch_metrics())  # OpenAIEngine's

    # -- probes ----------------------------------------------------------------------------------
    async def _list_models(self) -> list[dict]:
        assert self._session is not None
        try:
            async with self._session.get(self.base_url + "/models",
                                         timeout=aiohttp.ClientTimeout(total=30)) as resp:
                if resp.status in (401, 403):
                    raise EngineError(f"{self.base_url} refused the credentials (HTTP {resp.status}): "
                                      "set the API key (engine.api_key_env)")
                if resp.status != 200:
                    raise EngineUnavailable(f"{self.base_url}/models answered HTTP {resp.status}: "
                                            "is --base-url an OpenAI-compatible /v1 endpoint?")
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise EngineUnavailable(f"cannot reach {self.base_url} ({type(exc).__name__}: {exc}): "
                                    "start the server or fix --base-url") from None
        return list(data.get("data") or [])

    async def _read_version(self) -> str | None:
        """vLLM's `GET /version` ({"version": "0.32.0"}), else None."""
        assert self._session is not None
        try:
            async with self._session.get(self._root + "/version",
                                         timeout=aiohttp.ClientTimeout(total=10)) as resp:
                return (await resp.json(content_type=None)).get("version") if resp.status == 200 else None
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, AttributeError):
            return None

    async def _alive(self) -> bool:
        try:
            assert self._session is not None
            async with self._session.get(self.base_url + "/models",
                                         timeout=aiohttp.ClientTimeout(total=10)) as resp:
                return resp.status == 200
        except Exception:
            return False

    async def _try(self, path: str, payload: dict) -> dict | None:
        """One request without retries, for probing: the JSON body on 200, else None (counted as sent)."""
        assert self._session is not None
        self.stats.requests += 1
        try:
            async with self._session.post(self.base_url + path, json=payload,
                                          timeout=aiohttp.ClientTimeout(total=60)) as resp:
                if resp.status != 200:
                    return None
                data = await resp.json(content_type=None)
                self._count_usage(data)
                return data
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, AttributeError):
            return None

    def _tiny_chat(self, **extra: Any) -> dict:
        return {"model": self.model, "messages": [{"role": "user", "content": "Say hi."}],
                "max_tokens": 1, "temperature": 1.0, **extra}

    async def _probe_n(self) -> bool:
        data = await self._try("/chat/completions", self._tiny_chat(n=2))
        return bool(data) and len(data.get("choices") or []) == 2

    async def _probe_json_schema(self) -> str:
        styles = ("response_format", "json_object_schema")
        for style in ("structured_outputs", *styles) if self.capabilities.server == "vllm" else styles:
            body = {**self._tiny_chat(), "max_tokens": 24, "temperature": 0.0,
                    **json_schema_fields(style, _PROBE_SCHEMA)}
            data = await self._try("/chat/completions", body)
            try:
                json.loads(data["choices"][0]["message"]["content"], strict=False)
                return style
            except (TypeError, KeyError, IndexError, ValueError):
                continue
        return "none"

    async def supports_logprobs(self) -> bool:
        """Chat logprobs: known for vLLM and llama-cpp-python, else asked once (a server that ignores the
        field answers without `logprobs`) at the first request that wants them."""
        if self.capabilities.logprobs or not self.probe:
            return self.capabilities.logprobs
        if getattr(self, "_logprobs_probe", None) is None:  # concurrent rows wait for the one probe
            self._logprobs_probe = asyncio.ensure_future(self._probe_logprobs())
        self.capabilities.logprobs = await asyncio.shield(self._logprobs_probe)
        return self.capabilities.logprobs

    async def _probe_logprobs(self) -> bool:
        data = await self._try("/chat/completions", self._tiny_chat(logprobs=True, top_logprobs=2))
        content = ((data or {}).get("choices") or [{}])[0].get("logprobs") or {}
        return bool(isinstance(content, dict) and content.get("content"))

    async def probe_all(self) -> Capabilities:
        """Probe every capability (used by `synth serve-check`)."""
        caps = self.capabilities
        if "vllm" in self._owners:
            caps.server, caps.version = "vllm", await self._read_version()
        caps.native_n = await self._probe_n()
        caps.json_schema = await self._probe_json_schema()
        caps.completions = await self._try("/completions", {"model": self.model, "prompt": "1",
                                                            "max_tokens": 1}) is not None
        caps.logprobs = await self._probe_logprobs()
        caps.metrics = await self._probe_metrics()
        return caps

    # -- vLLM's /metrics (read again and again by OpenAIEngine._watch_metrics) ----------------------
    @property
    def _root(self) -> str:
        """The server's address without /v1, where vLLM serves /metrics and /version."""
        return re.sub(r"/v1$", "", self.base_url)

    @property
    def _metrics_url(self) -> str:
        return self._root + "/metrics"

    async def _probe_metrics(self) -> bool:
        return "vllm:num_requests_waiting" in (await self._read_metrics() or "")

    async def _read_metrics(self) -> str | None:
        try:
            assert self._session is not None
            async with self._session.get(self._metrics_url, timeout=aiohttp.ClientTimeout(total=5)) as resp:
                return await resp.text() if resp.status == 200 else None
        except Exception:
            return None



def json_schema_fields(style: str, schema: dict) -> dict[str, Any]:
    """Request fields that ask this kind of server for output matching `schema`."""
    if style == "response_format":
        return {"response_format": {"type": "json_schema", "json_schema": {"name": "output", "schema": schema}}}
    if style == "json_object_schema":  # llama-cpp-python: json_schema type answers HTTP 500
        return {"response_format": {"type": "json_object", "schema": schema}}
    if style == "structured_outputs":  # vLLM's own field (the guided_* fields are gone)
        return {"structured_outputs": {"json": schema}}
    return {"response_format": {"type": "json_object"}}


def schema_in_prompt(payload: dict, schema: dict) -> dict:
    """`payload` with `schema` described at the end of its last message, for a server that takes no schema
    field (synth.structured parses and repairs the answer; the request's cache identity is unchanged)."""
    *before, last = payload["messages"]
    note = "\n\nReply with one JSON object that matches this JSON schema:\n" + json.dumps(schema, ensure_ascii=False)
    return {**payload, "messages": [*before, {**last, "content": str(last.get("content") or "") + note}]}

