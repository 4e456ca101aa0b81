// spanslo budget dashboard: plain JavaScript, no framework, no build step.
// Routes: "#/" lists every SLO series by budget left; "#/slo/<id>" shows one
// SLO (the link slo.Config.SLOLink builds). Refreshes every few seconds.
"use strict";

const REFRESH_MS = 5000;
const SVG_NS = "http://www.w3.org/2000/svg";
let lastOK = null;
let timer = null;
let rendering = false;

// ---------- small DOM helpers (textContent only: API data is never HTML) ----------

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  setAttrs(e, attrs);
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  setAttrs(e, attrs);
  for (const c of children.flat()) {
    if (c == null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function setAttrs(e, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    e.setAttribute(k, String(v));
  }
}

// safeURL keeps only http(s) links, so a config value can never run script.
function safeURL(u) {
  try {
    const url = new URL(u, location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch (e) {
    return null;
  }
}

function link(href, text, cls) {
  const u = safeURL(href);
  if (!u) return el("span", { class: cls }, text);
  return el("a", { href: u, class: cls, target: "_blank", rel: "noopener noreferrer" }, text);
}

// ---------- formatting ----------

function pct(f, digits) {
  return (f * 100).toFixed(digits == null ? 1 : digits) + "%";
}

function sliPct(f) {
  return (f * 100).toFixed(3) + "%";
}

function burn(x) {
  if (!isFinite(x)) return "–";
  return (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)) + "×";
}

function human(seconds) {
  if (seconds == null) return "not burning";
  if (seconds <= 0) return "spent";
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 99) return d + "d";
  if (d > 0) return d + "d " + h + "h";
  if (h > 0) return h + "h " + m + "m";
  return Math.max(m, 1) + "m";
}

function clockTime(t) {
  return t.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function shortDate(t) {
  return t.toLocaleDateString([], { month: "short", day: "numeric" });
}

function dateTime(s) {
  const t = new Date(s);
  return shortDate(t) + " " + t.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function nsToText(ns) {
  const s = ns / 1e9;
  if (s % 86400 === 0) return s / 86400 + "d";
  if (s % 3600 === 0) return s / 3600 + "h";
  if (s % 60 === 0) return s / 60 + "m";
  return s + "s";
}

function labelsText(labels) {
  if (!labels) return "";
  return Object.keys(labels).sort().map((k) => k + "=" + labels[k]).join(", ");
}

function zoneBadge(zone) {
  return el("span", { class: "zone-badge zone-" + zone }, zone);
}

function burnClass(rate, factor) {
  if (factor && rate >= factor) return "hot";
  return rate > 1 ? "warm" : "";
}

// ---------- data ----------

async function getJSON(path) {
  const res = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
  let body = null;
  try {
    body = await res.json();
  } catch (e) {
    body = null;
  }
  if (!res.ok) {
    const err = new Error((body && body.error) || "HTTP " + res.status);
    err.status = res.status;
    throw err;
  }
  if (body == null) throw new Error("the API answered something that is not JSON");
  return body;
}

function route() {
  const h = location.hash || "#/";
  if (h.startsWith("#/slo/")) {
    return { view: "slo", id: decodeURIComponent(h.slice("#/slo/".length)) };
  }
  return { view: "list" };
}

// ---------- header ----------

function renderTotals(slos) {
  const counts = { normal: 0, caution: 0, freeze: 0 };
  let firing = 0;
  for (const s of slos) {
    counts[s.zone] = (counts[s.zone] || 0) + 1;
    firing += (s.alerts || []).filter((a) => a.state === "firing").length;
  }
  const box = document.getElementById("totals");
  box.replaceChildren(
    el("span", { class: "total" }, slos.length + " SLO series"),
    el("span", { class: "total zone-freeze" }, counts.freeze + " freeze"),
    el("span", { class: "total zone-caution" }, counts.caution + " caution"),
    el("span", { class: "total zone-normal" }, counts.normal + " normal"),
    el("span", { class: "total" + (firing ? " alerts-firing" : "") }, firing + " firing"),
  );
}

function tick() {
  const now = new Date();
  document.getElementById("clock").textContent = clockTime(now);
  const f = document.getElementById("freshness");
  if (!lastOK) {
    f.textContent = "";
    return;
  }
  const age = Math.round((now - lastOK) / 1000);
  f.textContent = "updated " + age + "s ago";
  f.classList.toggle("stale", age > (3 * REFRESH_MS) / 1000);
}

function banner(msg) {
  const b = document.getElementById("banner");
  b.hidden = !msg;
  b.textContent = msg || "";
}

// ---------- list view ----------

function budgetBar(s) {
  const w = 1000;
  const frac = Math.max(0, Math.min(1, s.budget_remaining));
  return svg("svg", { class: "bar", viewBox: "0 0 " + w + " 14", preserveAspectRatio: "none", "aria-hidden": "true" },
    svg("rect", { class: "bar-track", x: 0, y: 0, width: w, height: 14, rx: 7 }),
    svg("rect", { class: "bar-fill zone-" + s.zone, x: 0, y: 0, width: Math.round(frac * w), height: 14, rx: 7 }),
  );
}

function maxBurn(s) {
  let best = null;
  for (const [w, v] of Object.entries(s.burn_rates || {})) {
    if (w === "1h") return { w, v };
    if (!best) best = { w, v };
  }
  return best;
}

function card(s) {
  const target = "#/slo/" + encodeURIComponent(s.series || s.id);
  const b = maxBurn(s);
  return el("a", { class: "card zone-" + s.zone, href: target, "data-slo": s.id, "data-series": s.series || s.id },
    el("div", { class: "card-head" },
      el("div", null,
        el("div", { class: "slo-name" }, el("span", { class: "slo-journey" }, s.journey + " / "), s.name),
        s.labels ? el("div", { class: "series-labels" }, labelsText(s.labels)) : null,
      ),
      zoneBadge(s.zone),
    ),
    el("div", { class: "budget" }, pct(s.budget_remaining), el("span", { class: "budget-label" }, "budget left")),
    budgetBar(s),
    el("div", { class: "stats" },
      stat("SLI", sliPct(s.sli), s.sli < s.objective / 100 ? "hot" : ""),
      stat("objective", s.objective + "%"),
      b ? stat("burn " + b.w, burn(b.v), b.v > 1 ? "warm" : "") : null,
      stat("exhausted in", human(s.time_to_exhaustion_seconds), s.time_to_exhaustion_seconds != null ? "warm" : ""),
      stat("window", s.window),
    ),
    (s.alerts || []).length
      ? el("div", { class: "chips" }, s.alerts.map((a) => el("span", { class: "chip state-" + a.state }, a.rule + " " + a.state)))
      : null,
  );
}

function stat(label, value, cls) {
  return el("span", { class: "stat" }, el("span", { class: "stat-label" }, label), el("span", { class: "stat-value " + (cls || "") }, value));
}

async function renderList(view) {
  const data = await getJSON("/api/v1/slos");
  renderTotals(data.slos);
  document.title = "spanslo · error budgets";
  if (!data.slos.length) {
    view.replaceChildren(el("p", { class: "empty" }, "No SLOs configured."));
    return;
  }
  view.replaceChildren(el("section", { class: "grid", id: "slo-list" }, data.slos.map(card)));
}

// ---------- charts ----------

const CH = { w: 1000, h: 300, left: 125, right: 20, top: 20, bottom: 40 };

function scaleX(i, n) {
  return CH.left + (n <= 1 ? 0 : (i / (n - 1)) * (CH.w - CH.left - CH.right));
}

function scaleY(v, lo, hi) {
  return CH.top + (1 - (v - lo) / (hi - lo || 1)) * (CH.h - CH.top - CH.bottom);
}

// lineChart draws values (null breaks the line) on an hourly axis starting
// at start, with dashed reference lines.
function lineChart(opts) {
  const { values, start, step, lo, hi, refs, fmt, area, title } = opts;
  const n = values.length;
  const g = svg("svg", { class: "chart", viewBox: "0 0 " + CH.w + " " + CH.h, role: "img", "aria-label": title });
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    const y = scaleY(v, lo, hi);
    g.append(svg("line", { class: "grid-line", x1: CH.left, x2: CH.w - CH.right, y1: y, y2: y }));
    g.append(svg("text", { x: CH.left - 10, y: y + 7, "text-anchor": "end" }, fmt(v)));
  }
  if (lo < 0 && hi > 0) {
    const y = scaleY(0, lo, hi);
    g.append(svg("line", { class: "zero-line", x1: CH.left, x2: CH.w - CH.right, y1: y, y2: y }));
  }
  xLabels(g, start, step, n);
  for (const r of refs || []) {
    if (r.v < lo || r.v > hi) continue;
    const y = scaleY(r.v, lo, hi);
    g.append(svg("line", { class: "ref-" + r.cls, x1: CH.left, x2: CH.w - CH.right, y1: y, y2: y }));
    g.append(svg("text", { class: "ref-" + r.cls, x: CH.w - CH.right - 6, y: y - 8, "text-anchor": "end" }, r.label));
  }
  let seg = [];
  const segs = [];
  values.forEach((v, i) => {
    if (v == null) {
      if (seg.length) segs.push(seg);
      seg = [];
      return;
    }
    const c = Math.max(lo, Math.min(hi, v));
    seg.push([scaleX(i, n), scaleY(c, lo, hi)]);
  });
  if (seg.length) segs.push(seg);
  for (const s of segs) {
    const d = s.map((p, i) => (i ? "L" : "M") + p[0].toFixed(1) + " " + p[1].toFixed(1)).join(" ");
    if (area && s.length > 1) {
      const base = scaleY(Math.max(lo, 0), lo, hi);
      g.append(svg("path", { class: "series-area", d: d + " L" + s[s.length - 1][0].toFixed(1) + " " + base + " L" + s[0][0].toFixed(1) + " " + base + " Z" }));
    }
    if (s.length === 1) {
      g.append(svg("circle", { class: "series-line", cx: s[0][0], cy: s[0][1], r: 4 }));
    } else {
      g.append(svg("path", { class: "series-line", d }));
    }
  }
  return g;
}

function xLabels(g, start, step, n) {
  const t0 = new Date(start).getTime();
  const ticks = 6;
  for (let k = 0; k < ticks; k++) {
    const i = Math.round((k * (n - 1)) / (ticks - 1));
    if (n <= 1 && k > 0) break;
    const t = new Date(t0 + i * step * 1000);
    const label = n * step > 2 * 86400 ? shortDate(t) : t.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    g.append(svg("text", { x: scaleX(i, n), y: CH.h - 8, "text-anchor": k === 0 ? "start" : k === ticks - 1 ? "end" : "middle" }, label));
  }
}

function budgetChart(d, s) {
  const v = s.history.budget_remaining;
  // An overspent budget is clipped at -100 % so the zone lines stay readable.
  const lo = Math.max(-1, Math.min(0, ...v));
  return lineChart({
    values: v, start: s.history.start, step: s.history.step_seconds, lo, hi: 1, area: true,
    title: "error budget remaining over the window",
    fmt: (x) => pct(x, 0),
    refs: [
      { v: d.zones.caution, cls: "caution", label: "caution " + pct(d.zones.caution, 0) },
      { v: d.zones.freeze, cls: "freeze", label: "freeze " + pct(d.zones.freeze, 0) },
    ],
  });
}

function sliChart(d, s) {
  const v = s.history.sli;
  const objective = d.objective / 100;
  const present = v.filter((x) => x != null);
  const floor = Math.min(objective - (1 - objective), ...present);
  const lo = Math.max(0, floor - (1 - floor) * 0.1);
  return lineChart({
    values: v, start: s.history.start, step: s.history.step_seconds, lo, hi: 1,
    title: "SLI per hour",
    fmt: (x) => pct(x, 1 - lo < 0.01 ? 2 : 1),
    refs: [{ v: objective, cls: "objective", label: "objective " + d.objective + "%" }],
  });
}

// timelineChart draws each alert as a bar from fired to resolved (or now),
// one row per rule, over the span of the alerts shown (at least a day).
function timelineChart(s) {
  const end = Date.now();
  const oldest = Math.min(end - 86400000, ...s.alert_timeline.map((a) => new Date(a.fired_at).getTime()));
  const start = Math.max(new Date(s.history.start).getTime(), end - (end - oldest) * 1.1);
  const rules = [...new Set(s.alert_timeline.map((a) => a.rule))];
  const left = 180;
  const rowH = 44;
  const h = rules.length * rowH + 50;
  const x = (t) => left + ((t - start) / (end - start || 1)) * (CH.w - left - CH.right);
  const g = svg("svg", { class: "chart", viewBox: "0 0 " + CH.w + " " + h, role: "img", "aria-label": "alert timeline" });
  rules.forEach((r, i) => {
    const y = 6 + i * rowH;
    g.append(svg("text", { class: "tl-label", x: left - 12, y: y + 28, "text-anchor": "end" }, r));
    g.append(svg("line", { class: "grid-line", x1: left, x2: CH.w - CH.right, y1: y + rowH - 2, y2: y + rowH - 2 }));
  });
  for (const a of s.alert_timeline) {
    const i = rules.indexOf(a.rule);
    const from = Math.max(start, new Date(a.fired_at).getTime());
    const to = a.resolved_at ? new Date(a.resolved_at).getTime() : end;
    const x1 = x(from);
    g.append(svg("rect", { class: "tl-bar state-" + a.state, x: x1, y: 10 + i * rowH, width: Math.max(6, x(to) - x1), height: rowH - 16, rx: 4 },
      svg("title", null, a.rule + " " + a.state + " from " + dateTime(a.fired_at))));
  }
  const long = end - start > 2 * 86400000;
  for (let k = 0; k < 5; k++) {
    const t = new Date(start + ((end - start) * k) / 4);
    const label = long ? shortDate(t) : t.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    g.append(svg("text", { x: x(t.getTime()), y: h - 8, "text-anchor": k === 0 ? "start" : k === 4 ? "end" : "middle" }, label));
  }
  return g;
}

// ---------- detail view ----------

function kpi(label, value, cls) {
  return el("div", { class: "kpi" }, el("div", { class: "kpi-label" }, label), el("div", { class: "kpi-value " + (cls || "") }, value));
}

function rulesTable(s, d) {
  const rows = s.rules.map((r) =>
    el("tr", { "data-rule": r.rule },
      el("td", null, r.rule),
      el("td", null, r.severity),
      el("td", null, burn(r.factor)),
      el("td", null, r.long_window + " ", el("span", { class: burnClass(r.burn_long, r.factor) }, burn(r.burn_long))),
      el("td", null, r.short_window + " ", el("span", { class: burnClass(r.burn_short, r.factor) }, burn(r.burn_short))),
      el("td", null, Math.round(r.long_events) + " / " + r.min_events),
      el("td", null, el("span", { class: "state state-" + (r.state || "unknown") }, (r.state || "–").replace("_", " "))),
    ),
  );
  return el("div", { class: "table-wrap" }, el("table", { class: "rules" },
    el("thead", null, el("tr", null, ["rule", "severity", "factor", "long window", "short window", "events (min)", "state"].map((h) => el("th", null, h)))),
    el("tbody", null, rows),
  ));
}

function alertList(s) {
  if (!s.alert_timeline.length) return el("p", { class: "muted" }, "No alerts in the evaluator's memory.");
  return el("ul", { class: "plain alerts" }, s.alert_timeline.map((a) =>
    el("li", null,
      el("span", { class: "state state-" + a.state }, a.state), " ",
      el("strong", null, a.rule), " (" + a.severity + ") fired " + dateTime(a.fired_at),
      a.resolved_at ? ", resolved " + dateTime(a.resolved_at) : "",
      " · burn " + burn(a.burn_long) + " over " + nsToText(a.long_window) + ", " + burn(a.burn_short) + " over " + nsToText(a.short_window),
      a.runbook_url ? [" · ", link(a.runbook_url, "runbook")] : null,
    )));
}

function exampleList(s) {
  if (!s.examples.length) return el("p", { class: "muted" }, "No failing traces recorded.");
  return el("ul", { class: "plain examples" }, s.examples.map((e) =>
    el("li", null, e.url ? link(e.url, e.trace_id, "mono") : el("span", { class: "mono" }, e.trace_id), " ",
      el("span", { class: "muted" }, dateTime(e.time)))));
}

function seriesSection(d, s, multi) {
  return el("section", { class: "series", "data-series": s.series || s.id },
    multi ? el("h2", { class: "series-title" }, labelsText(s.labels) || "all") : null,
    el("div", { class: "kpis" },
      kpi("budget left", pct(s.budget_remaining), "zone-" + s.zone),
      kpi("SLI (" + s.window + ")", sliPct(s.sli), s.sli < d.objective / 100 ? "hot" : ""),
      kpi("objective", d.objective + "%"),
      kpi("burn 1h", burn((s.burn_rates || {})["1h"] || 0)),
      kpi("budget exhausted in", human(s.time_to_exhaustion_seconds)),
      kpi("events (" + s.window + ")", Math.round(s.total).toLocaleString() + " / " + Math.round(s.total - s.good).toLocaleString() + " bad"),
    ),
    el("div", { class: "panels charts" },
      el("div", { class: "panel" }, el("h2", null, "Error budget burn-down (" + s.window + ")"), budgetChart(d, s)),
      el("div", { class: "panel" }, el("h2", null, "SLI per hour"), sliChart(d, s)),
    ),
    el("div", { class: "panels" },
      el("div", { class: "panel wide" }, el("h2", null, "Burn rate per rule"), rulesTable(s, d)),
      el("div", { class: "panel" }, el("h2", null, "Alert timeline"), s.alert_timeline.length ? timelineChart(s) : null, alertList(s)),
      el("div", { class: "panel" }, el("h2", null, "Example failing traces"), exampleList(s)),
    ),
  );
}

async function renderDetail(view, id) {
  let d;
  try {
    d = await getJSON("/api/v1/slos/" + encodeURIComponent(id));
  } catch (e) {
    if (e.status === 404) {
      view.replaceChildren(el("a", { class: "back", href: "#/" }, "← all SLOs"), el("p", { class: "empty" }, "Unknown SLO " + id + "."));
      return;
    }
    throw e;
  }
  renderTotals(d.series);
  document.title = d.id + " · spanslo";
  const multi = d.series.length > 1 || d.series.some((s) => s.labels);
  view.replaceChildren(el("div", { id: "detail", "data-slo": d.id },
    el("a", { class: "back", href: "#/" }, "← all SLOs"),
    el("div", { class: "detail-head" },
      el("h1", null, d.id),
      zoneBadge(d.zone),
      d.runbook ? link(d.runbook, "runbook ↗", "runbook") : null,
    ),
    d.description ? el("p", { class: "description" }, d.description) : null,
    d.series.map((s) => seriesSection(d, s, multi)),
  ));
}

// ---------- loop ----------

async function render() {
  if (rendering) return;
  rendering = true;
  const view = document.getElementById("view");
  try {
    const r = route();
    if (r.view === "slo") {
      await renderDetail(view, r.id);
    } else {
      await renderList(view);
    }
    lastOK = new Date();
    banner(pageErrorText);
  } catch (e) {
    banner("Cannot reach spanslo (" + e.message + "); showing the last data" + (lastOK ? " from " + clockTime(lastOK) : "") + ".");
  } finally {
    rendering = false;
    tick();
  }
}

// Errors of the page itself (a script error, a refused or failed resource)
// go to the banner, so a wall screen shows it is broken instead of going
// quietly stale, and to the console for the browser test.
let pageErrorText = "";
function pageError(what) {
  console.error("dashboard error: " + what);
  pageErrorText = "Dashboard error: " + what;
  banner(pageErrorText);
}
window.addEventListener("error", (ev) => {
  const t = ev.target;
  pageError(t && t !== window && (t.src || t.href) ? "failed to load " + (t.src || t.href) : ev.message);
}, true);
window.addEventListener("unhandledrejection", (ev) => pageError(String(ev.reason)));
document.addEventListener("securitypolicyviolation", (ev) => pageError("blocked by the content policy: " + ev.violatedDirective));

window.addEventListener("hashchange", () => {
  window.scrollTo(0, 0);
  render();
});
setInterval(tick, 1000);
timer = setInterval(render, REFRESH_MS);
render();
