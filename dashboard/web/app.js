// eventpub live dashboard: reads the relay's WebSocket frames
// ({"channel":…,"data":…}, the history frame, broker-state frames) and
// shows the log, the current activity, the latest stats and the events.
"use strict";
(() => {
  const ns = document.querySelector('meta[name="eventpub-namespace"]').content;
  const chan = (n) => (ns ? ns + ":" + n : n);
  const CH = { logs: chan("logs"), events: chan("events"), stats: chan("stats"), history: chan("history") };
  const $ = (id) => document.getElementById(id);
  const MAX_LOG = 500, MAX_EVENTS = 60, MAX_POINTS = 60;
  $("channels").textContent = [CH.logs, CH.events, CH.stats].join("  ");

  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const clock = (ts) => {
    const d = ts ? new Date(ts) : new Date();
    return isNaN(d) ? String(ts).slice(11, 19) : d.toLocaleTimeString([], { hour12: false });
  };
  const show = (v) => (typeof v === "string" ? v : JSON.stringify(v));

  // Connection and broker state.
  function setPill(id, state, text) {
    const p = $(id);
    p.dataset.state = state;
    p.querySelector("span").textContent = text;
  }
  const setConn = (s) => setPill("conn", s, { connected: "live", reconnecting: "reconnecting…", connecting: "connecting…" }[s]);
  const setBroker = (s) => setPill("broker", s, s === "up" ? "broker up" : "broker down");

  // Live log.
  const logBox = $("log");
  const hidden = new Set();
  let received = 0;
  function levelOf(d) {
    const l = String(d.level || d.log_level || d.levelname || "info").toLowerCase();
    return l === "warn" ? "warning" : l;
  }
  function addLog(d) {
    let level, msg, ts, rest = [];
    if (d && typeof d === "object" && !Array.isArray(d)) {
      if ("raw" in d && Object.keys(d).length === 1) {
        level = "raw"; msg = String(d.raw);
      } else {
        level = levelOf(d); ts = d.timestamp;
        msg = d.event !== undefined ? show(d.event) : d.message !== undefined ? show(d.message) : "";
        for (const [k, v] of Object.entries(d)) {
          if (!["event", "message", "level", "log_level", "levelname", "timestamp"].includes(k)) rest.push([k, v]);
        }
      }
    } else {
      level = "raw"; msg = show(d);
    }
    const row = el("div", "log-row");
    row.dataset.level = level;
    row.append(el("span", "ts", clock(ts)), el("span", "lvl " + level, level));
    const body = el("span", "msg", msg);
    if (rest.length) {
      const f = el("span", "fields");
      for (const [k, v] of rest) {
        f.append(" ", el("b", "", k + "="), show(v));
      }
      body.append(f);
    }
    row.append(body);
    if (hidden.has(level)) row.hidden = true;
    const stick = logBox.scrollTop + logBox.clientHeight >= logBox.scrollHeight - 30;
    logBox.querySelector(".empty")?.remove();
    logBox.append(row);
    while (logBox.children.length > MAX_LOG) logBox.firstChild.remove();
    if (stick) logBox.scrollTop = logBox.scrollHeight;
  }
  $("filters").addEventListener("click", (e) => {
    const b = e.target.closest("button");
    if (!b) return;
    const l = b.dataset.level;
    b.classList.toggle("on");
    if (b.classList.contains("on")) hidden.delete(l); else hidden.add(l);
    if (l === "error") (b.classList.contains("on") ? hidden.delete("critical") : hidden.add("critical"));
    for (const r of logBox.querySelectorAll(".log-row")) r.hidden = hidden.has(r.dataset.level);
  });

  // Current activity, from the events.
  const activity = $("activity");
  const LABELS = { analyzing: "Analyzing", generating: "Generating docs", starting: "Starting a cycle", idle: "Idle", waiting: "Waiting for events" };
  function setActivity(state, target, detail, ts) {
    activity.dataset.state = state;
    $("activity-state").textContent = LABELS[state] || state;
    $("activity-target").textContent = target || "";
    $("activity-detail").textContent = detail || "";
    $("activity-since").textContent = ts ? "since " + clock(ts) : "";
    const order = ["starting", "analyzing", "generating", "idle"], at = order.indexOf(state);
    for (const li of $("steps").children) {
      const i = order.indexOf(li.dataset.step);
      li.className = i < at || (state === "idle" && i === at) ? "done" : i === at ? "active" : "";
    }
  }
  let nextCycle = null;
  function tickNext() {
    const n = $("next-cycle");
    if (!nextCycle) { n.textContent = "—"; return; }
    const d = new Date(nextCycle);
    if (isNaN(d)) { n.textContent = String(nextCycle); return; }
    const s = Math.round((d - Date.now()) / 1000);
    n.textContent = d.toLocaleTimeString([], { hour12: false }) + (s > 0 ? ` (in ${s >= 60 ? Math.floor(s / 60) + "m " : ""}${s % 60}s)` : "");
  }
  setInterval(tickNext, 1000);

  const eventList = $("events");
  let eventCount = 0;
  function onEvent(ev, replay) {
    const isEv = ev && typeof ev === "object" && typeof ev.type === "string";
    const type = isEv ? ev.type : "raw";
    const data = isEv && ev.data && typeof ev.data === "object" ? ev.data : {};
    const li = el("li");
    li.append(el("span", "ts", clock(isEv ? ev.timestamp : undefined)));
    const body = el("div");
    body.append(el("div", "type", type), el("div", "data", isEv ? show(ev.data ?? {}) : show(ev && ev.raw !== undefined ? ev.raw : ev)));
    li.append(body);
    eventList.querySelector(".empty")?.remove();
    eventList.prepend(li);
    while (eventList.children.length > MAX_EVENTS) eventList.lastChild.remove();
    $("event-count").textContent = String(++eventCount);
    if (!isEv) return;
    const where = [data.repo, data.doc_type].filter(Boolean).join(" · ");
    switch (type) {
      case "cycle_starting":
        setActivity("starting", data.cycle_num !== undefined ? "cycle #" + data.cycle_num : "", "", ev.timestamp);
        nextCycle = null; tickNext(); break;
      case "analyzing":
        setActivity("analyzing", data.target || data.file || data.repo || "", where, ev.timestamp);
        nextCycle = null; tickNext(); break;
      case "generating":
        setActivity("generating", data.target || "", where, ev.timestamp);
        nextCycle = null; tickNext(); break;
      case "documentation_committed":
        setActivity("idle", data.target || "", "committed " + [data.commit, data.repo].filter(Boolean).join(" to "), ev.timestamp);
        $("last-commit").textContent = [data.commit, data.repo].filter(Boolean).join(" · ") || clock(ev.timestamp);
        break;
      case "next_cycle":
        nextCycle = data.time || data.next_run || null; tickNext(); break;
    }
  }

  // Stats: the latest value of each, and a small chart of each number.
  const statBox = $("stats");
  const series = new Map();
  function spark(points) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 100 30");
    svg.setAttribute("preserveAspectRatio", "none");
    if (points.length < 2) return svg;
    const lo = Math.min(...points), hi = Math.max(...points), span = hi - lo || 1;
    const xy = points.map((v, i) => [(i / (points.length - 1)) * 100, 27 - ((v - lo) / span) * 24]);
    const line = document.createElementNS(svg.namespaceURI, "polyline");
    line.setAttribute("points", xy.map((p) => p.join(",")).join(" "));
    const area = document.createElementNS(svg.namespaceURI, "polygon");
    area.setAttribute("points", "0,30 " + xy.map((p) => p.join(",")).join(" ") + " 100,30");
    svg.append(area, line);
    return svg;
  }
  const fmt = (v) => (Number.isInteger(v) ? v.toLocaleString() : Math.abs(v) >= 1000 ? v.toLocaleString(undefined, { maximumFractionDigits: 1 }) : String(+v.toPrecision(4)));
  function onStats(s) {
    if (!s || typeof s !== "object" || Array.isArray(s)) return;
    $("stats-time").textContent = "updated " + clock(s.timestamp);
    statBox.querySelector(".empty")?.remove();
    for (const [k, v] of Object.entries(s)) {
      if (k === "timestamp") continue;
      let tile = statBox.querySelector(`.stat[data-key="${CSS.escape(k)}"]`);
      if (!tile) {
        tile = el("div", "stat");
        tile.dataset.key = k;
        tile.append(el("div", "name", k.replace(/_/g, " ")), el("div", "value"));
        statBox.append(tile);
      }
      const val = tile.querySelector(".value");
      tile.querySelector("svg")?.remove();
      if (typeof v === "number") {
        const pts = series.get(k) || [];
        pts.push(v);
        if (pts.length > MAX_POINTS) pts.shift();
        series.set(k, pts);
        val.className = "value";
        val.textContent = fmt(v);
        val.title = String(v);
        tile.append(spark(pts));
      } else {
        val.className = "value text";
        val.textContent = show(v);
      }
    }
  }

  function handle(m, replay) {
    if (!m || typeof m !== "object") return;
    if (m.type === "broker") return setBroker(m.state);
    if (m.type === "pong") return;
    received++;
    $("received").textContent = received.toLocaleString() + " messages";
    switch (m.channel) {
      case CH.history:
        received--;
        logBox.replaceChildren();
        eventList.replaceChildren();
        eventCount = 0;
        if (Array.isArray(m.data)) for (const x of m.data) handle(x, true);
        return;
      case CH.logs: return addLog(m.data);
      case CH.events: return onEvent(m.data, replay);
      case CH.stats: return onStats(m.data);
    }
  }

  // The WebSocket, reconnected with backoff whenever it closes.
  let retry = 0, pinger = 0;
  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const token = new URLSearchParams(location.search).get("token");
    const ws = new WebSocket(`${proto}//${location.host}/api/ws` + (token ? "?token=" + encodeURIComponent(token) : ""));
    setConn(retry ? "reconnecting" : "connecting");
    ws.onopen = () => {
      retry = 0;
      setConn("connected");
      pinger = setInterval(() => ws.readyState === 1 && ws.send("ping"), 25000);
    };
    ws.onmessage = (e) => {
      let m;
      try { m = JSON.parse(e.data); } catch { return; }
      handle(m, false);
    };
    ws.onerror = () => ws.close();
    ws.onclose = () => {
      clearInterval(pinger);
      setConn("reconnecting");
      setTimeout(connect, Math.min(8000, 400 * 2 ** retry++));
    };
  }
  connect();
})();
