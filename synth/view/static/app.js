/* synth view: the page. Plain JavaScript, no build step.
 *
 * Two data sources with one interface, api(route, params):
 * - served by `synth view RUN`: JSON from /api/<route> (server-side paging over the run's files);
 * - a file from `synth view RUN --html FILE`: the rows embedded in <script id="synth-data">,
 *   paged and searched here.
 * Model output is untrusted: text goes in with textContent; Markdown is sanitised by DOMPurify
 * before KaTeX's MathML (which escapes its input) is put in.
 */
(function () {
  "use strict";

  const PAGE = 50;
  const FACETS = ["verdict", "cell", "document", "split"];
  const ENTRY_FACETS = ["stage", "reason"];
  const dataEl = document.getElementById("synth-data");
  const DATA = dataEl ? JSON.parse(dataEl.textContent) : null;
  let generation = 0;          // bumped by each navigation: a slower, older render stops
  const prevStarts = {};       // filtered paging: where earlier pages started, per query

  // -- language ------------------------------------------------------------------------------------
  // English or Chinese: the one picked with the switch (kept in localStorage), else the one the server
  // chose from the browser's Accept-Language (<html data-lang>), else the browser's own languages (a
  // file opened from disk). Strings are looked up whole in static/i18n.js; {name} fills a value in.
  const I18N = window.SYNTH_I18N || {};
  const LANGS = ["en", "zh"];
  function pickLang() {
    let saved = null;
    try { saved = window.localStorage.getItem("synth-view-lang"); } catch (e) { /* storage off */ }
    if (LANGS.includes(saved)) return saved;
    const served = document.documentElement.dataset.lang;
    if (LANGS.includes(served)) return served;
    for (const tag of navigator.languages || [navigator.language || "en"]) {
      const base = String(tag).toLowerCase().split("-")[0];
      if (LANGS.includes(base)) return base;
    }
    return "en";
  }
  const LANG = pickLang();
  function t(s, vars) {
    let out = (LANG !== "en" && I18N[LANG] && I18N[LANG][s]) || s;
    if (vars) out = out.replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined ? vars[k] : m));
    return out;
  }
  function languageSwitch() {
    document.documentElement.lang = LANG === "zh" ? "zh-CN" : "en";
    for (const a of document.querySelectorAll("#nav a")) a.textContent = t(a.dataset.label || (a.dataset.label = a.textContent));
    const sw = document.getElementById("lang-switch");
    if (!sw) return;
    for (const a of sw.querySelectorAll("a[data-lang]")) {
      a.classList.toggle("active", a.dataset.lang === LANG);
      a.addEventListener("click", (ev) => {
        ev.preventDefault();
        try { window.localStorage.setItem("synth-view-lang", a.dataset.lang); } catch (e) { /* storage off */ }
        location.reload();
      });
    }
  }

  // -- small helpers ------------------------------------------------------------------------------
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(el.dataset, v);
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  const fmt = (n) => (typeof n === "number" ? n.toLocaleString("en-US") : n === null || n === undefined ? "–" : String(n));
  const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  const short = (v) => (typeof v === "string" ? v : JSON.stringify(v));
  const when = (t) => (t ? new Date(t * 1000).toLocaleString() : "–");
  function duration(s) {
    if (s === null || s === undefined || isNaN(s)) return "–";
    if (s < 60) return s.toFixed(1) + " s";
    if (s < 3600) return (s / 60).toFixed(1) + " min";
    return (s / 3600).toFixed(2) + " h";
  }
  function badge(text, cls) { return h("span", { class: "badge " + (cls || ""), text: text }); }
  function verdictBadge(v) { return v ? badge(v, "v-" + String(v).replace(/[^\w-]/g, "_")) : null; }
  function kv(pairs) {
    const dl = h("dl", { class: "kv" });
    for (const [k, v] of pairs) {
      if (v === undefined) continue;
      dl.append(h("dt", { text: t(k) }), h("dd", {}, v instanceof Node ? v : fmtValue(v)));
    }
    return dl;
  }
  function fmtValue(v) {
    if (v === null || v === undefined) return "–";
    if (typeof v === "number") return Number.isInteger(v) ? fmt(v) : String(Math.round(v * 10000) / 10000);
    if (typeof v === "boolean") return t(v ? "yes" : "no");
    return short(v);
  }
  function card(title, body) { return h("div", { class: "card" }, h("h4", { text: t(title) }), body); }
  function section(title, ...body) { return h("section", { class: "sec" }, h("h3", { text: t(title) }), ...body); }
  function setNotice(text) {
    const el = document.getElementById("notice");
    el.hidden = !text;
    el.textContent = text || "";
  }

  // -- Markdown with math ---------------------------------------------------------------------------
  // $$..$$, \[..\], \(..\) and $..$ (a closing $ not followed by a digit or letter, so prices stay text)
  const MATH = /\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\]|\\\(([\s\S]+?)\\\)|(?<![\\$\w])\$(?![\s$])([^$\n]+?)(?<![\s\\])\$(?![\w$])/g;
  // \boxed{...} outside any $...$ (how models often end a solution), braces balanced
  function bareBoxed(text, hold) {
    let out = "", at = 0, k;
    while ((k = text.indexOf("\\boxed{", at)) >= 0) {
      let depth = 0, end = -1;
      for (let j = k + 6; j < text.length; j++) {
        if (text[j] === "{") depth++;
        else if (text[j] === "}" && --depth === 0) { end = j; break; }
      }
      if (end < 0) break;
      out += text.slice(at, k) + hold(text.slice(k, end + 1), false);
      at = end + 1;
    }
    return out + text.slice(at);
  }
  function markdown(text) {
    const maths = [];
    const parts = String(text ?? "").split(/(```[\s\S]*?(?:```|$)|`[^`\n]*`)/g);  // code keeps its $ signs
    const hold = (tex, display) => { maths.push({ tex, display }); return "MATHPLACEHOLDER" + (maths.length - 1) + "X"; };
    const src = parts.map((p, k) => (k % 2 ? p : bareBoxed(p.replace(MATH, (m, a, b, c, d) =>
      hold(a ?? b ?? c ?? d, a !== undefined || b !== undefined)), hold))).join("");
    let html = window.DOMPurify.sanitize(window.marked.parse(src, { gfm: true, breaks: true, async: false }));
    html = html.replace(/MATHPLACEHOLDER(\d+)X/g, (m, k) => {
      const { tex, display } = maths[Number(k)];
      try {
        return window.katex.renderToString(tex, { displayMode: display, throwOnError: false, output: "mathml" });
      } catch (e) {
        return h("code", { text: tex }).outerHTML;
      }
    });
    const div = h("div", { class: "md" });
    div.innerHTML = html;
    return div;
  }

  // -- data ----------------------------------------------------------------------------------------
  async function api(route, params) {
    if (DATA) return local(route, params || {});
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== "") qs.set(k, v);
    const res = await fetch("api/" + route + (qs.toString() ? "?" + qs : ""));
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || res.statusText);
    return body;
  }

  function local(route, p) {
    if (route === "overview") return DATA.overview;
    if (route === "groups") return DATA.groups;
    if (route === "coverage") return DATA.coverage;
    const set = DATA.sets[p.set || "kept"];
    if (!set) throw new Error("unknown row set " + p.set);
    if (route === "facets") return set.facets;
    if (route === "rows") {
      const q = String(p.q || "").trim().toLowerCase();
      const filters = [...FACETS, ...ENTRY_FACETS].filter((k) => p[k]);
      const limit = Number(p.limit) || PAGE;
      const start = Number(p.start) || 0;
      const items = [];
      let k = start;
      for (; k < set.rows.length && items.length < limit; k++) {
        const r = set.rows[k];
        if (q && !r.t.includes(q)) continue;
        if (filters.some((f) => String(r.s[f] ?? "") !== String(p[f]))) continue;
        items.push(r.s);
      }
      return { items, start, next: k < set.rows.length ? k : null, total: set.rows.length, scanned: k,
               filtered: Boolean(q || filters.length) };
    }
    if (route === "row") {
      const at = set.rows.findIndex((r) => r.s.i === Number(p.i));
      if (at < 0) throw new Error("row " + p.i + " is not in this file (it holds " + set.rows.length + " of " + set.total + " rows)");
      const r = set.rows[at];
      return { set: p.set, kind: set.kind, i: r.s.i, total: set.total, entry: r.e, summary: r.s, seed: null,
               prev: at > 0 ? set.rows[at - 1].s.i : null, next: at + 1 < set.rows.length ? set.rows[at + 1].s.i : null };
    }
    throw new Error("unknown route " + route);
  }

  // -- router --------------------------------------------------------------------------------------
  function parseHash() {
    const raw = location.hash.replace(/^#\/?/, "");
    const [route, qs] = raw.split("?");
    return { route: route || "overview", params: Object.fromEntries(new URLSearchParams(qs || "")) };
  }
  function link(route, params) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== "") qs.set(k, v);
    return "#/" + route + (qs.toString() ? "?" + qs : "");
  }

  async function render() {
    const gen = ++generation;
    const { route, params } = parseHash();
    const main = document.getElementById("main");
    const tab = route === "rows" || route === "row" ? params.set || "kept" : route;
    for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.tab === tab);
    const view = { overview: viewOverview, rows: viewRows, row: viewRow, coverage: viewCoverage }[route] || viewOverview;
    const next = h("div", { id: "view-" + route, class: "view" });
    try {
      await view(next, params, gen);
    } catch (e) {
      next.replaceChildren(h("p", { class: "error", text: t("Error: ") + e.message }));
    }
    if (gen === generation) main.replaceChildren(next);
  }

  async function header() {
    const o = await api("overview");
    document.getElementById("run-name").textContent = o.name || "";
    const st = document.getElementById("run-status");
    st.textContent = o.status || "unknown";
    st.className = "badge status-" + (o.status || "unknown");
    document.title = "synth view · " + (o.name || "");
    languageSwitch();
    if (DATA) setNotice(DATA.notice || "");
    return o;
  }

  // -- overview ------------------------------------------------------------------------------------
  async function viewOverview(el) {
    const o = await api("overview");
    const eng = o.engine || {}, rows = o.rows || {}, req = o.requests || {}, rec = o.recipe || {};
    const seconds = o.finished && o.started ? o.finished - o.started : null;
    el.append(h("h2", { text: t("Run ") + (o.name || "") }));
    el.append(h("div", { class: "cards" },
      card("Status", kv([["status", h("span", {}, badge(o.status || "unknown", "status-" + o.status))],
                         ["recipe", (rec.name || "–") + (rec.version ? " v" + rec.version : "")],
                         ["sessions", o.sessions], ["started", when(o.started)], ["finished", when(o.finished)],
                         ["this session", duration(seconds)], ["fingerprint", o.fingerprint], ["directory", o.run_dir]])),
      card("Model", kv([["model", eng.model], ["engine", eng.kind], ["server", eng.server], ["base URL", eng.base_url],
                        ["native n", eng.native_n], ["JSON schema", eng.json_schema]])),
      card("Sampling", kv(Object.entries(o.sampling || {}))),
      card("Seed rows", kv([["selected", rows.selected], ["done", rows.done], ["failed", rows.failed],
                            ...(rows.follow_up !== undefined ? [["follow-up", rows.follow_up]] : [])])),
      card("Requests and tokens", kv([["sent", req.sent], ["cache hits", req.cache_hits], ["cache misses", req.cache_misses],
                                      ["retries", req.retries], ["failed", req.failed], ["prompt tokens", req.prompt_tokens],
                                      ["completion tokens", req.completion_tokens]])),
      card("Row sets", kv([
        ["kept", h("a", { href: link("rows", { set: "kept" }), id: "count-kept", text: fmt(o.sets.kept.rows) })],
        ["rejected", h("a", { href: link("rows", { set: "rejected" }), id: "count-rejected", text: fmt(o.sets.rejected.rows) })],
        ["failed", h("a", { href: link("rows", { set: "failed" }), id: "count-failed", text: fmt(o.sets.failed.rows) })],
        ["exports", (o.exports || []).join(", ") || "–"]]))));
    if (o.sets.kept.source === "records") {
      el.append(h("p", { class: "muted", text: t("The run has not written its dataset yet: Rows shows the generated records before filters.") }));
    }
    if ((o.engines || []).length > 1) el.append(section("Engines by role", engines(o.engines)));
    el.append(section("Funnel", funnel(o.stages || [])));
    for (const s of (o.stages || []).filter((s) => s.student)) el.append(section("Student pass rates", student(s)));
    if (o.structured_outputs) el.append(section("Structured (JSON) answers", kv(Object.entries(o.structured_outputs))));
    if (o.versions) {
      el.append(h("details", {}, h("summary", { text: t("Versions") }),
        kv(Object.entries(o.versions).filter(([, v]) => v !== null))));
    }
  }

  function engines(rows) {
    const cols = [["role", "role"], ["model", "model"], ["used by", "used_by"], ["sent", "sent"], ["cache hits", "cache_hits"],
                  ["prompt tokens", "prompt_tokens"], ["completion tokens", "completion_tokens"]];
    return h("table", { class: "engines", id: "engines" },
      h("thead", {}, h("tr", {}, cols.map(([t, k]) => h("th", { class: typeof rows[0][k] === "number" ? "num" : "", text: t })))),
      h("tbody", {}, rows.map((r) => h("tr", { dataset: { role: r.role } }, cols.map(([, k]) =>
        h("td", { class: typeof r[k] === "number" ? "num" : "", text: Array.isArray(r[k]) ? r[k].join(", ") || "–" : fmtValue(r[k]) }))))));
  }

  function student(s) {
    // the student stage (synth.stages.student): its band, what early stopping saved, the pass rates before and after
    const st = s.student, hist = (s.scores || {}).pass_rate || {}, why = s.dropped_by_reason || {};
    const kept = hist.histogram_kept || {};
    return h("div", { id: "student" }, kv([
      ["student model", st.model], ["pass-rate band", st.band], ["questions probed", st.questions],
      ["answers asked", fmt(st.samples) + " / " + fmt(st.samples_without_early_stop)],
      ["saved by early stopping", Math.round(100 * st.samples_saved_share) + "%"],
      ["too easy (solved)", why.student_solved || 0], ["too hard (never solved)", why.student_never_solves || 0]]),
    h("table", { class: "engines", id: "student-histogram" },
      h("thead", {}, h("tr", {}, h("th", { text: t("pass rate") }), h("th", { class: "num", text: t("probed") }),
        h("th", { class: "num", text: t("kept") }))),
      h("tbody", {}, Object.entries(hist.histogram || {}).map(([bin, n]) => h("tr", { dataset: { bin: bin } },
        h("td", { text: bin }), h("td", { class: "num", text: fmt(n) }), h("td", { class: "num", text: fmt(kept[bin] || 0) }))))));
  }

  function funnel(stages) {
    if (!stages.length) return h("p", { class: "muted", text: t("No stage counts yet (the run has not reached its stages).") });
    const body = stages.map((s) => {
      const reasons = Object.entries(s.dropped_by_reason || {}).sort((a, b) => b[1] - a[1]);
      const share = s.in ? Math.min(1, s.kept / s.in) : 0;
      return h("tr", { class: "stage", dataset: { stage: s.name } },
        h("td", { class: "stage-name", text: s.name }),
        h("td", { class: "num n-in", text: fmt(s.in) }),
        h("td", { class: "num n-kept", text: fmt(s.kept) }),
        h("td", { class: "num n-dropped", text: fmt(s.dropped) }),
        h("td", {}, s.name === "generate" ? h("span", { class: "muted", text: t("seed rows → records") })
          : h("div", { class: "bar", title: t("{p}% kept", { p: Math.round(share * 100) }) }, h("span", { style: "width:" + share * 100 + "%" }))),
        h("td", { class: "reasons" }, reasons.map(([r, n]) => h("a", {
          href: link("rows", { set: "rejected", stage: s.name, reason: r }), dataset: { reason: r, count: n },
          text: r + " (" + fmt(n) + ")" }))),
        h("td", { class: "num", text: duration(s.seconds) }));
    });
    return h("table", { class: "funnel", id: "funnel" },
      h("thead", {}, h("tr", {}, h("th", { text: t("stage") }), h("th", { class: "num", text: t("in") }),
        h("th", { class: "num", text: t("kept") }), h("th", { class: "num", text: t("dropped") }), h("th", { text: "" }),
        h("th", { text: t("dropped by reason") }), h("th", { class: "num", text: t("time") }))),
      h("tbody", {}, body));
  }

  // -- row lists -----------------------------------------------------------------------------------
  const TITLES = { kept: "Rows", rejected: "Rejected rows", failed: "Failed seed rows" };

  async function viewRows(el, p, gen) {
    const set = p.set || "kept";
    const overview = await api("overview");
    const info = overview.sets[set] || { rows: 0 };
    el.append(h("h2", {}, t(TITLES[set] || set), " ", h("span", { class: "muted", text: "(" + fmt(info.rows) + ")" })));
    if (set === "kept" && info.source === "records") {
      el.append(h("p", { class: "muted", text: t("Generated records, before filters and dedup: the run has not written data/ yet.") }));
    }
    if (set === "rejected") el.append(await rejectedGroups(p));
    const facets = await api("facets", { set }).catch(() => ({}));
    const form = h("form", { class: "filters", id: "filters" });
    const search = h("input", { type: "search", name: "q", id: "search", value: p.q || "",
                                placeholder: t("Search all text (中文 / English)…") });
    form.append(search);
    const names = set === "rejected" ? [...ENTRY_FACETS, ...FACETS] : set === "failed" ? [] : FACETS;
    for (const name of names) {
      const values = facets[name] || [];
      if (!values.length && !p[name]) continue;
      const sel = h("select", { name, id: "facet-" + name }, h("option", { value: "", text: t("any {name}", { name: t(name) }) }));
      for (const [v, n] of values) sel.append(h("option", { value: v, text: v + " (" + fmt(n) + ")" }));
      if (p[name] && !values.some(([v]) => v === p[name])) sel.append(h("option", { value: p[name], text: p[name] }));
      sel.value = p[name] || "";
      sel.addEventListener("change", () => form.requestSubmit());
      form.append(sel);
    }
    form.append(h("button", { type: "submit", text: t("Search") }),
                h("button", { type: "button", text: t("Clear"), onclick: () => { location.hash = link("rows", { set }); } }));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const params = { set };
      for (const [k, v] of new FormData(form).entries()) if (v) params[k] = v;
      location.hash = link("rows", params);
    });
    el.append(form);
    const status = h("div", { class: "status-line", id: "status-line" });
    const table = h("table", { class: "rows", id: "rows" });
    const pager = h("div", { class: "pager", id: "pager" });
    el.append(status, table, pager);

    const query = {};
    for (const k of ["q", ...FACETS, ...ENTRY_FACETS]) if (p[k]) query[k] = p[k];
    const start = Number(p.start) || 0;
    const key = JSON.stringify([set, query]);
    // a filtered page keeps scanning (the server stops each call after a time budget) until full
    let items = [], res, pos = start;
    do {
      res = await api("rows", { set, ...query, start: pos, limit: PAGE - items.length });
      if (gen !== generation) return;
      items = items.concat(res.items);
      pos = res.next;
      if (res.filtered) {
        status.textContent = t("Searching… {found} found, {scanned} of {total} rows searched", { found: fmt(items.length), scanned: fmt(res.scanned), total: fmt(res.total) });
        if (!el.isConnected) document.getElementById("main").replaceChildren(el);
      }
    } while (res.filtered && items.length < PAGE && res.next !== null);

    if (!res.filtered) {
      status.textContent = res.total ? t("rows {from}–{to} of {total}", { from: fmt(start + 1), to: fmt(start + items.length), total: fmt(res.total) })
                                     : t("no rows");
    } else {
      status.textContent = t(items.length === 1 ? "{n} match on this page; " : "{n} matches on this page; ", { n: fmt(items.length) }) +
        (res.next === null ? t("searched to the end ({total} rows)", { total: fmt(res.total) }) : t("searched up to row {scanned} of {total}", { scanned: fmt(res.scanned), total: fmt(res.total) }));
    }
    if (DATA && DATA.sets[set] && DATA.sets[set].total > DATA.sets[set].rows.length) {
      status.append(t(" · this file holds {n} of the run's {total} rows", { n: fmt(DATA.sets[set].rows.length), total: fmt(DATA.sets[set].total) }));
    }
    table.append(rowsHead(set), h("tbody", {}, items.map((s) => rowLine(set, s))));

    const prevStack = prevStarts[key] || (prevStarts[key] = []);
    const go = (s) => { location.hash = link("rows", { set, ...query, start: s }); };
    const prev = h("button", { type: "button", id: "prev", text: t("← Previous"), disabled: start === 0,
      onclick: () => {
        if (!res.filtered) return go(Math.max(0, start - PAGE));
        go(prevStack.length ? prevStack.pop() : 0);
      } });
    const next = h("button", { type: "button", id: "next", text: t("Next →"), disabled: res.next === null,
      onclick: () => { if (res.filtered) prevStack.push(start); go(res.next); } });
    pager.append(prev, next);
    if (!res.filtered && res.total > PAGE) {
      const pages = Math.ceil(res.total / PAGE);
      const jump = h("input", { type: "number", min: 1, max: pages, value: Math.floor(start / PAGE) + 1, id: "page-number" });
      pager.append(h("span", { class: "muted", text: t("page") }), jump, h("span", { class: "muted", text: t("of {n}", { n: fmt(pages) }) }),
        h("button", { type: "button", text: t("Go"), onclick: () => go((Math.min(pages, Math.max(1, Number(jump.value) || 1)) - 1) * PAGE) }));
    }
  }

  function rowsHead(set) {
    const cols = ["#", set === "failed" ? "seed row" : "question / instruction", set === "failed" ? "error" : "answer", "tags"];
    if (set === "rejected") cols.push("stage", "reason");
    return h("thead", {}, h("tr", {}, cols.map((c) => h("th", { text: t(c) }))));
  }

  function rowLine(set, s) {
    const tags = h("td", { class: "tags" }, s.split ? badge(s.split) : null, verdictBadge(s.verdict),
                   s.cell ? badge("cell " + s.cell) : null, s.document ? badge(s.document) : null);
    const tr = h("tr", { class: "row", dataset: { i: s.i },
                         onclick: () => { location.hash = link("row", { set, i: s.i }); } },
      h("td", { class: "num" }, h("a", { href: link("row", { set, i: s.i }), text: fmt(s.i + 1) })),
      h("td", { class: "title", text: s.title }),
      h("td", { class: "answer", text: set === "failed" ? s.error : s.answer }),
      tags);
    if (set === "rejected") tr.append(h("td", { class: "stage", text: s.stage }), h("td", { class: "reason", text: s.reason }));
    return tr;
  }

  async function rejectedGroups(p) {
    const groups = await api("groups");
    if (!groups.length) return h("p", { class: "muted", text: t("Nothing was rejected.") });
    const rows = [];
    for (const g of groups) {
      for (const [reason, n] of g.reasons) {
        const active = p.stage === g.stage && p.reason === reason;
        rows.push(h("tr", { class: "group" + (active ? " active" : ""), dataset: { stage: g.stage, reason } },
          h("td", { text: g.stage }),
          h("td", {}, h("a", { href: link("rows", { set: "rejected", stage: g.stage, reason }), text: reason })),
          h("td", { class: "num", text: fmt(n) })));
      }
    }
    return h("details", { open: true, class: "groups" }, h("summary", { text: t("By stage and reason") }),
      h("table", { id: "groups" }, h("thead", {}, h("tr", {}, h("th", { text: t("stage") }), h("th", { text: t("reason") }),
        h("th", { class: "num", text: t("rows") }))), h("tbody", {}, rows)));
  }

  // -- one row -------------------------------------------------------------------------------------
  async function viewRow(el, p) {
    const set = p.set || "kept";
    const d = await api("row", { set, i: p.i });
    const prev = d.prev !== undefined ? d.prev : d.i > 0 ? d.i - 1 : null;
    const next = d.next !== undefined ? d.next : d.i + 1 < d.total ? d.i + 1 : null;
    el.append(h("div", { class: "nav-row" },
      h("a", { href: link("rows", { set }), text: "← " + t(TITLES[set] || set) }),
      h("span", { class: "muted", text: t("row {n} of {total}", { n: fmt(d.i + 1), total: fmt(d.total) }) }),
      prev !== null ? h("a", { href: link("row", { set, i: prev }), id: "row-prev", text: t("‹ previous") }) : null,
      next !== null ? h("a", { href: link("row", { set, i: next }), id: "row-next", text: t("next ›") }) : null));
    renderEntry(el, d);
  }

  function renderEntry(el, d) {
    const entry = d.entry;
    const rec = d.kind === "rejected" ? (entry.record || {}) : d.kind === "failed" ? {} : entry;
    const used = new Set(["id", "recipe", "recipe_version", "seed_key"]);
    const take = (...keys) => { keys.forEach((k) => used.add(k)); };
    el.append(h("h2", { class: "row-title", text: d.summary.title || rec.id || "row " + (d.i + 1) }));
    el.append(h("p", { class: "muted" }, [rec.id ? "id " + rec.id : null, rec.recipe ? "recipe " + rec.recipe + (rec.recipe_version ? " v" + rec.recipe_version : "") : null,
      rec.seed_key ? "seed " + rec.seed_key : null].filter(Boolean).join(" · ")));

    if (d.kind === "rejected") {
      const extra = Object.entries(entry).filter(([k]) => !["stage", "reason", "record"].includes(k));
      el.append(h("div", { class: "banner rejection", id: "rejection" },
        h("strong", { text: t("Rejected") }), t(" at "), h("code", { class: "stage", text: entry.stage }), t(" — reason "),
        h("code", { class: "reason", text: entry.reason }), extra.length ? kv(extra) : null));
    }
    if (d.kind === "failed") {
      el.append(h("div", { class: "banner failure", id: "failure" }, h("strong", { text: t("Failed seed row") }),
        h("pre", { class: "text error", text: entry.error || "" })));
      el.append(section("Seed row", h("pre", { class: "raw", text: JSON.stringify(entry.row, null, 2) })));
      el.append(rawJson(entry));
      return;
    }

    // conversation, or the problem and its solution
    if (Array.isArray(rec.messages) && rec.messages.length) {
      take("messages", "instruction", "response");
      el.append(section("Conversation", h("div", { class: "messages" }, rec.messages.map((m) =>
        h("div", { class: "msg " + (m.role || "") }, h("div", { class: "role", text: m.role || "?" }), markdown(m.content))))));
    } else {
      const q = rec.problem ?? rec.question ?? rec.instruction ?? rec.prompt;
      const a = rec.solution ?? rec.answer ?? rec.response ?? rec.output;
      if (q !== undefined) el.append(section("Problem", markdown(q)));
      if (a !== undefined && a !== null && !(Array.isArray(rec.steps) && rec.steps.length)) el.append(section("Answer", markdown(a)));
      take("problem", "question", "instruction", "prompt", "response", "output", "messages");
      if (!(Array.isArray(rec.steps) && rec.steps.length)) take("solution", "answer");
    }
    if (rec.reasoning) {
      take("reasoning");
      el.append(h("section", { class: "sec" }, h("h3", { text: t("Reasoning") }),
        h("details", { class: "reasoning", open: true }, h("summary", { text: t("model thinking (kept apart from the answer)") }), markdown(rec.reasoning))));
    } else take("reasoning");

    if (Array.isArray(rec.steps) && rec.steps.length) { take("steps", "first_error_step", "solution"); el.append(stepsSection(rec)); }
    if (rec.majority || (Array.isArray(rec.votes) && rec.votes.length)) { take("majority", "votes"); el.append(votesSection(rec)); }
    if (Array.isArray(rec.rejected_solutions) && rec.rejected_solutions.length) { take("rejected_solutions"); el.append(pairSection(rec)); }
    const verdict = verdictSection(rec, take);
    if (verdict) el.append(verdict);
    const prov = provenanceSection(rec, d.seed, take);
    if (prov) el.append(prov);
    if (isObj(rec.scores)) { take("scores"); el.append(section("Scores", kv(Object.entries(rec.scores)))); }
    take("generation");
    if (isObj(rec.generation)) el.append(section("Generation", kv(Object.entries(rec.generation))));
    const rest = Object.entries(rec).filter(([k]) => !used.has(k));
    if (rest.length) el.append(section("Other fields", kv(rest.map(([k, v]) => [k, isObj(v) && Object.values(v).every((x) => typeof x !== "object" || x === null) ? kv(Object.entries(v)) : v]))));
    el.append(rawJson(entry));
  }

  function rawJson(entry) {
    return h("details", { class: "sec raw" }, h("summary", { text: t("Raw JSON") }), h("pre", { class: "raw", text: JSON.stringify(entry, null, 2) }));
  }

  function firstWrong(rec) {
    if (typeof rec.first_error_step === "number") return rec.first_error_step;
    const k = rec.steps.findIndex((s) => typeof s.label === "number" && s.label < 0);
    return k < 0 ? null : k;
  }

  function stepsSection(rec) {
    const wrong = firstWrong(rec);
    const rows = rec.steps.map((s, k) => {
      const idx = typeof s.index === "number" ? s.index : k;
      const label = s.label === null || s.label === undefined ? badge(t("unlabelled")) : s.label > 0 ? badge(t("+1 good"), "good") : badge(t("−1 bad"), "bad");
      const mc = typeof s.mc_value === "number"
        ? h("span", {}, h("span", { class: "mc" }, h("span", { style: "width:" + Math.round(s.mc_value * 100) + "%" })), " " + s.mc_value.toFixed(2))
        : h("span", { class: "muted", text: "–" });
      const isWrong = wrong !== null && idx === wrong;
      return h("tr", { class: "step" + (isWrong ? " first-wrong" : "") + (wrong !== null && idx > wrong ? " after-error" : ""),
                       dataset: { index: idx, label: s.label ?? "" } },
        h("td", { class: "num", text: idx + 1 }),
        h("td", {}, isWrong ? h("span", { class: "first-wrong-tag", text: t("✗ first wrong step") }) : null, markdown(s.text)),
        h("td", { class: "label" }, label, s.label_source ? h("div", { class: "muted", text: s.label_source }) : null),
        h("td", { class: "num" }, mc),
        h("td", { class: "num", text: s.n_rollouts ? fmt(s.n_correct || 0) + " / " + fmt(s.n_rollouts) : "–" }));
    });
    const head = h("thead", {}, h("tr", {}, ["#", "step", "label", "MC value", "rollouts correct"].map((c) => h("th", { text: t(c) }))));
    const note = wrong === null ? t(rec.correct ? "Every step leads to the right answer." : "No step is labelled wrong.")
                                : t("First wrong step: {n} of {total}.", { n: wrong + 1, total: rec.steps.length });
    return section("Steps", h("p", { class: "muted", id: "steps-note", text: note }), h("table", { class: "steps", id: "steps" }, head, h("tbody", {}, rows)));
  }

  function votesSection(rec) {
    const votes = Array.isArray(rec.votes) ? rec.votes : [];
    const total = votes.reduce((a, v) => a + (v.votes || 0), 0) || (rec.majority && rec.majority.total) || 1;
    const major = rec.majority && rec.majority.answer;
    const bars = votes.map((v) => h("div", { class: "vote" + (v.answer === major ? " majority" : "") },
      h("code", { text: String(v.answer) }),
      h("div", { class: "bar" }, h("span", { style: "width:" + (100 * v.votes / total) + "%" })),
      h("span", { class: "num", text: fmt(v.votes) })));
    return section("Votes", rec.majority ? kv([["majority answer", rec.majority.answer], ["votes", rec.majority.votes],
      ["answered samples", rec.majority.total], ["agreement", rec.majority.agreement]]) : null, h("div", { class: "votes", id: "votes" }, bars));
  }

  function pairSection(rec) {
    const chosen = Array.isArray(rec.messages) && rec.messages.length ? rec.messages[rec.messages.length - 1].content : rec.solution;
    const cols = rec.rejected_solutions.map((r, k) => h("div", { class: "rejected" },
      h("h4", { text: t("Rejected ") + (rec.rejected_solutions.length > 1 ? k + 1 : "") }),
      kv([["final answer", r.final_answer], ["status", r.status]]), markdown(r.solution)));
    return section("Preference pair (DPO)", h("div", { class: "pair", id: "pair" },
      h("div", { class: "chosen" }, h("h4", { text: t("Chosen") }), kv([["final answer", rec.final_answer], ["status", rec.verification ? rec.verification.status : rec.correct]]), markdown(chosen)),
      cols));
  }

  function verdictSection(rec, take) {
    const parts = [];
    const pairs = [];
    for (const k of ["final_answer", "reference_answer", "reference_answer_source", "answer_pattern", "correct", "selected"]) {
      if (k in rec) { pairs.push([k.replace(/_/g, " "), rec[k]]); take(k); }
    }
    if (isObj(rec.verification)) {
      take("verification");
      pairs.unshift(["verification", h("span", {}, verdictBadge(rec.verification.status), " ", rec.verification.method || "",
        rec.verification.detail ? " · " + rec.verification.detail : "")]);
    }
    if (pairs.length) parts.push(kv(pairs));
    if (isObj(rec.grounding)) {
      take("grounding");
      const g = rec.grounding;
      parts.push(h("h4", { text: t("Grounding") }), kv([["supported", h("span", {}, verdictBadge(g.supported ? "supported" : "unsupported"))],
        ["method", g.method], ["reason", g.reason]]));
      if (isObj(g.checks)) parts.push(kv(Object.entries(g.checks)));
      if (Array.isArray(g.evidence) && g.evidence.length) {
        parts.push(h("table", { class: "evidence" }, h("thead", {}, h("tr", {}, ["quote", "found at", "score", "method"].map((c) => h("th", { text: t(c) })))),
          h("tbody", {}, g.evidence.map((e) => h("tr", {}, h("td", { text: e.quote }),
            h("td", { class: "num", text: e.start !== null && e.start !== undefined ? e.start + "–" + e.end : "not found" }),
            h("td", { class: "num", text: fmtValue(e.score) }), h("td", { text: e.method || "–" }))))));
      }
      if (g.judge) parts.push(h("h4", { text: t("Judge") }), isObj(g.judge) ? kv(Object.entries(g.judge)) : fmtValue(g.judge));
    }
    if (isObj(rec.judge)) { take("judge"); parts.push(h("h4", { text: t("Judge") }), kv(Object.entries(rec.judge))); }
    return parts.length ? section("Verdict", ...parts) : null;
  }

  function highlighted(text, evidence) {
    const spans = (evidence || []).filter((e) => typeof e.start === "number" && typeof e.end === "number" && e.end > e.start)
      .sort((a, b) => a.start - b.start);
    const pre = h("pre", { class: "text context" });
    let at = 0;
    for (const e of spans) {
      if (e.start < at) continue;
      pre.append(text.slice(at, e.start), h("mark", { title: "evidence (" + (e.method || "") + ")", text: text.slice(e.start, e.end) }));
      at = e.end;
    }
    pre.append(text.slice(at));
    return pre;
  }

  function provenanceSection(rec, seed, take) {
    const parts = [];
    if (isObj(rec.chunk)) {
      take("chunk", "context", "lang");
      const c = rec.chunk;
      const span = c.start !== null && c.start !== undefined ? "characters " + fmt(c.start) + "–" + fmt(c.end) : null;
      parts.push(h("h4", { text: t("Source chunk") }), kv([["document", c.source], ["headings", (c.headings || []).join(" › ") || "–"],
        ["span", span || "–"], ["chunk id", c.id], ["language", rec.lang]]));
      if (typeof rec.context === "string") parts.push(highlighted(rec.context, rec.grounding && rec.grounding.evidence));
    }
    if (isObj(rec.raft)) { take("raft"); parts.push(h("h4", { text: t("RAFT documents") }), kv(Object.entries(rec.raft))); }
    if (isObj(rec.taxonomy)) {
      take("taxonomy", "cell", "round", "question_index");
      const t = rec.taxonomy;
      parts.push(h("h4", { text: t("Taxonomy cell") }), kv([["cell", rec.cell], ["path", (t.path || []).join(" › ")],
        ...Object.entries(t).filter(([k]) => k !== "path"), ["round", rec.round]]));
    }
    if (isObj(rec.evolution)) { take("evolution"); parts.push(h("h4", { text: t("Evolution") }), kv(Object.entries(rec.evolution))); }
    if (isObj(rec.augment)) { take("augment"); parts.push(h("h4", { text: t("Augmented from") }), kv(Object.entries(rec.augment))); }
    if (seed) {
      parts.push(h("h4", { text: t("Seed row") }), kv([["key", seed.seed_key], ["status", seed.status], ["records", seed.records],
        ["error", seed.error || undefined]]));
      if (seed.row) parts.push(h("pre", { class: "raw", text: JSON.stringify(seed.row, null, 2) }));
    } else if (rec.seed_key) {
      parts.push(h("p", { class: "muted", text: t("Seed row ") + rec.seed_key + (DATA ? "" : t(" (not in cache.sqlite)")) + "." }));
    }
    return parts.length ? section("Provenance", ...parts) : null;
  }

  // -- coverage ------------------------------------------------------------------------------------
  async function viewCoverage(el) {
    const c = await api("coverage");
    el.append(h("h2", { text: t("Coverage") }));
    if (!c.report && !c.heatmaps.length) {
      el.append(h("p", { class: "muted", id: "no-coverage",
        text: t("This run has no coverage report or taxonomy / document fields (the doc-qa, taxonomy and evolve recipes write them).") }));
      return;
    }
    for (const m of c.heatmaps) el.append(heatmap(m));
    if (c.report) el.append(coverageReport(c.report));
  }

  function heat(n, max) {
    const a = max ? 0.08 + 0.8 * (n / max) : 0;
    return n ? "background: rgba(var(--heat), " + a.toFixed(3) + ")" : "";
  }

  function heatmap(m) {
    const head = h("tr", {}, h("th", { text: "" }), m.cols.map((c) => h("th", { class: "num", text: c })));
    const body = m.rows.map((r, k) => h("tr", {}, h("th", { class: "rowname", text: r }),
      m.counts[k].map((n, j) => h("td", { class: "cell" + (n ? "" : " zero"), style: heat(n, m.max),
                                          title: r + " · " + m.cols[j] + ": " + n, text: fmt(n) }))));
    return section(m.title, h("div", { class: "heatwrap" }, h("table", { class: "heat" }, h("thead", {}, head), h("tbody", {}, body))),
      m.truncated ? h("p", { class: "muted", text: t("First {n} rows shown.", { n: m.rows.length }) }) : null);
  }

  function coverageReport(report) {
    const scalars = [], lists = [], tables = [];
    for (const [k, v] of Object.entries(report)) {
      if (isObj(v) && Object.values(v).every((x) => typeof x === "number")) tables.push([k, v]);
      else if (Array.isArray(v)) lists.push([k, v]);
      else scalars.push([k, v]);
    }
    const parts = [kv(scalars)];
    for (const [k, v] of lists) {
      parts.push(h("details", { open: v.length > 0 && v.length <= 20 }, h("summary", { text: k + " (" + v.length + ")" }),
        v.length ? h("ul", {}, v.slice(0, 500).map((x) => h("li", { text: short(x) }))) : h("p", { class: "muted", text: t("none") })));
    }
    for (const [k, v] of tables) {
      const max = Math.max(0, ...Object.values(v));
      parts.push(h("h4", { text: k }), h("table", { class: "heat heat-1d" }, h("tbody", {},
        Object.entries(v).map(([name, n]) => h("tr", {}, h("th", { class: "rowname", text: name }),
          h("td", { class: "cell" + (n ? "" : " zero"), style: heat(n, max), text: fmt(n) }))))));
    }
    return section("Coverage report", ...parts);
  }

  // -- start ---------------------------------------------------------------------------------------
  window.addEventListener("hashchange", render);
  header().then(render, (e) => {
    document.getElementById("main").replaceChildren(h("p", { class: "error", text: t("Cannot read the run: ") + e.message }));
  });
})();
