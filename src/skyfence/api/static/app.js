// skyfence operator page: plain JS, no build step, no external assets.
// The live picture comes from the WebSocket /ws (a snapshot, then deltas applied
// as skyfence.live.hub.apply_delta does; trails kept here from the snapshot's
// `trails` and each delta's positions); the plan view is redrawn on every
// animation frame. The time bar replays the event store (/api/history/*): while
// replaying, the page draws the recorded picture, says REPLAY, hides the live
// clock and refuses to acknowledge, and keeps applying live deltas so that
// "Live" returns at once. window.skyfence exposes the pictures, the view
// transform and the frame times for the browser tests.
"use strict";

(function () {
  const TOKEN_KEY = "skyfence.token";
  const KEYS = { tracks: "track_id", swarms: "swarm_id", alerts: "alert_id", health: "sensor" };
  const CLASS_STYLE = {
    drone: { color: "#ff4d4d", shape: "triangle" },
    bird: { color: "#5fd35f", shape: "circle" },
    aircraft: { color: "#4da3ff", shape: "square" },
    unknown: { color: "#e0c341", shape: "diamond" },
  };
  const ZONE_STYLE = {
    critical: { stroke: "#ff4d4d", fill: "rgba(255,77,77,0.10)" },
    warning: { stroke: "#f0a020", fill: "rgba(240,160,32,0.08)" },
  };
  const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 };
  const LEADER_S = 10; // the velocity leader shows where the track is in this many seconds
  const FAR_SENSORS = new Set(["adsb"]); // ranges too long to scale the plan view to
  const MAX_FRAMES = 600;
  const TRAIL_POINTS = 32; // the newest positions kept per track (the server's snapshot sends as many)
  const RANGE_REFRESH_MS = 15000; // how often the stored span is asked for again
  const TRAIL_S = 32; // seconds of recorded trail a replayed tick shows

  const $ = (id) => document.getElementById(id);
  const canvas = $("plan");
  const ctx = canvas.getContext("2d");

  const emptyPicture = () => ({ t: null, tracks: new Map(), swarms: new Map(), alerts: new Map(),
    health: new Map(), trails: new Map() });
  const live = emptyPicture();
  // replay: the recorded picture shown instead of the live one while `active`
  const replay = { active: false, pic: null, t: null, playing: false, speed: 1,
    anchorT: 0, anchorWall: 0, inFlight: false, pending: null, error: "",
    range: null, available: null, held: false, rangeAsked: -Infinity, seq: 0 };
  const loading = emptyPicture(); // shown while the first replayed tick is on its way
  const shown = () => (replay.active ? replay.pic || loading : live);
  const view = { cx: 0, cy: 0, scale: 0.1, fitted: false, extentM: 1000 };
  let site = null;
  let sensors = [];
  let socket = null;
  let selected = null; // track id
  let alertsDirty = true;
  let token = sessionStorage.getItem(TOKEN_KEY);
  const frameTimesMs = [];
  const frameIntervalsMs = [];
  let lastFrame = null;

  // ---- picture: snapshot and deltas -------------------------------------
  // A track's trail is [[t, e, n, u], ...], oldest first: from the snapshot's
  // `trails` (or a record's own `trail`, as older servers send), then one point
  // per delta that moves the track on in time.
  function applySnapshot(pic, msg) {
    pic.t = msg.t;
    for (const name of Object.keys(KEYS)) {
      const col = new Map();
      for (const r of msg[name] || []) col.set(r[KEYS[name]], r);
      pic[name] = col;
    }
    pic.trails = new Map();
    for (const [k, pts] of Object.entries(msg.trails || {})) pic.trails.set(Number(k), pts.slice(-TRAIL_POINTS));
    for (const r of pic.tracks.values()) if (r.trail || !pic.trails.has(r.track_id)) extendTrail(pic, r);
    if (pic === shown()) alertsDirty = true;
  }

  function extendTrail(pic, r) {
    if (r.trail) { pic.trails.set(r.track_id, r.trail); return; }
    let trail = pic.trails.get(r.track_id);
    if (!trail) { trail = []; pic.trails.set(r.track_id, trail); }
    const last = trail[trail.length - 1];
    if (last === undefined || r.t > last[0]) {
      trail.push([r.t, r.enu_m[0], r.enu_m[1], r.enu_m[2]]);
      if (trail.length > TRAIL_POINTS) trail.splice(0, trail.length - TRAIL_POINTS);
    }
  }

  function applyDelta(pic, msg) {
    pic.t = msg.t;
    for (const name of Object.keys(KEYS)) {
      const change = msg[name];
      if (!change) continue;
      const col = pic[name];
      for (const k of change.remove) col.delete(k);
      for (const r of change.upsert) col.set(r[KEYS[name]], r);
      if (name === "tracks") {
        for (const k of change.remove) pic.trails.delete(k);
        for (const r of change.upsert) extendTrail(pic, r);
      }
      if (name === "alerts" && pic === shown() && (change.remove.length || change.upsert.length)) alertsDirty = true;
    }
  }

  // ---- HTTP ----------------------------------------------------------------
  async function api(method, path, body) {
    const init = { method, headers: { Authorization: "Bearer " + token } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const r = await fetch(path, init);
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (!r.ok) {
      const err = new Error((data && data.detail) || r.statusText);
      err.status = r.status;
      throw err;
    }
    return data;
  }

  // ---- login -----------------------------------------------------------------
  async function start() {
    $("login-error").textContent = "";
    try {
      [site, sensors] = await Promise.all([api("GET", "/api/site"), api("GET", "/api/sensors")]);
    } catch (e) {
      sessionStorage.removeItem(TOKEN_KEY);
      token = null;
      $("login").hidden = false;
      $("main").hidden = true;
      $("login-error").textContent = e.status === 401 ? "Unknown token." : "Cannot log in: " + e.message;
      return;
    }
    $("login").hidden = true;
    $("main").hidden = false;
    $("site-name").textContent = site.name || "";
    view.fitted = false;
    connect();
    refreshRange();
  }

  function logout(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    token = null;
    if (socket) { socket.onclose = null; socket.close(); socket = null; }
    goLive(); // the next login starts live
    $("main").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
  }

  $("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    token = $("token").value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    start();
  });
  $("logout").addEventListener("click", () => logout(""));

  // ---- live feed -------------------------------------------------------------
  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(proto + "//" + location.host + "/ws?token=" + encodeURIComponent(token));
    socket = ws;
    setConn("connecting…", "");
    ws.onopen = () => setConn("live", "ok");
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.type === "snapshot") applySnapshot(live, msg);
      else if (msg.type === "delta") applyDelta(live, msg);
    };
    ws.onclose = (ev) => {
      if (socket !== ws) return;
      socket = null;
      if (ev.code === 4401) { logout("The server refused the token."); return; }
      setConn("disconnected, retrying…", "bad");
      setTimeout(() => { if (token && !socket) connect(); }, 2000);
    };
  }

  function setConn(text, cls) {
    const el = $("conn");
    el.textContent = text;
    el.className = "conn " + cls;
  }

  // ---- view transform ----------------------------------------------------------
  function fit() {
    let r = 500;
    const grow = (e, n, extra) => { r = Math.max(r, Math.hypot(e, n) + (extra || 0)); };
    for (const s of sensors) {
      const p = s.position_enu_m || [0, 0];
      const range = FAR_SENSORS.has(s.type) ? 0 : Math.min(s.max_range_m || 0, 20000);
      grow(p[0], p[1], range);
    }
    for (const z of (site && site.zones) || []) {
      if (z.circle) grow(z.circle.center_enu_m[0], z.circle.center_enu_m[1], z.circle.radius_m);
      for (const p of z.polygon || []) grow(p[0], p[1], 0);
    }
    view.extentM = r;
    view.cx = 0;
    view.cy = 0;
    view.scale = (0.5 * Math.min(canvas.clientWidth, canvas.clientHeight)) / (r * 1.05);
    view.fitted = true;
  }

  function toScreen(e, n) {
    return [canvas.clientWidth / 2 + (e - view.cx) * view.scale,
      canvas.clientHeight / 2 - (n - view.cy) * view.scale];
  }

  function toEnu(x, y) {
    return [(x - canvas.clientWidth / 2) / view.scale + view.cx,
      -(y - canvas.clientHeight / 2) / view.scale + view.cy];
  }

  canvas.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const [e, n] = toEnu(ev.offsetX, ev.offsetY);
    view.scale *= Math.exp(-ev.deltaY * 0.001);
    const [e2, n2] = toEnu(ev.offsetX, ev.offsetY);
    view.cx += e - e2;
    view.cy += n - n2;
  }, { passive: false });

  let drag = null;
  canvas.addEventListener("mousedown", (ev) => { drag = { x: ev.offsetX, y: ev.offsetY, moved: false }; });
  canvas.addEventListener("mousemove", (ev) => {
    if (!drag || !(ev.buttons & 1)) return;
    const dx = ev.offsetX - drag.x, dy = ev.offsetY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    if (drag.moved) {
      view.cx -= dx / view.scale;
      view.cy += dy / view.scale;
      drag.x = ev.offsetX;
      drag.y = ev.offsetY;
    }
  });
  canvas.addEventListener("dblclick", () => fit());
  canvas.addEventListener("click", (ev) => {
    if (drag && drag.moved) { drag = null; return; }
    drag = null;
    let best = null, bestD = 12;
    for (const tr of shown().tracks.values()) {
      const [x, y] = toScreen(tr.enu_m[0], tr.enu_m[1]);
      const d = Math.hypot(x - ev.offsetX, y - ev.offsetY);
      if (d < bestD) { bestD = d; best = tr.track_id; }
    }
    select(best);
  });

  // ---- drawing ----------------------------------------------------------------
  function niceStep(m) {
    const p = Math.pow(10, Math.floor(Math.log10(m)));
    for (const k of [1, 2, 5, 10]) if (k * p >= m) return k * p;
    return 10 * p;
  }

  function drawRings(w, h) {
    const [ox, oy] = toScreen(0, 0);
    const far = Math.hypot(w, h) / view.scale;
    const step = niceStep(view.extentM / 4 * (0.5 * Math.min(w, h) / (view.extentM * view.scale)));
    ctx.strokeStyle = "#263041";
    ctx.fillStyle = "#6b7a90";
    ctx.lineWidth = 1;
    ctx.font = "11px system-ui, sans-serif";
    for (let r = step, i = 0; r < far + Math.hypot(view.cx, view.cy) && i < 60; r += step, i++) {
      ctx.beginPath();
      ctx.arc(ox, oy, r * view.scale, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.fillText(r >= 1000 ? (r / 1000) + " km" : r + " m", ox + 3, oy - r * view.scale - 3);
    }
    ctx.beginPath();
    ctx.moveTo(ox, 0); ctx.lineTo(ox, h);
    ctx.moveTo(0, oy); ctx.lineTo(w, oy);
    ctx.stroke();
    ctx.fillText("N", ox + 4, 12);
  }

  function drawZones() {
    for (const z of (site && site.zones) || []) {
      const st = ZONE_STYLE[z.level] || ZONE_STYLE.warning;
      ctx.beginPath();
      let lx, ly;
      if (z.circle) {
        const [x, y] = toScreen(z.circle.center_enu_m[0], z.circle.center_enu_m[1]);
        ctx.arc(x, y, z.circle.radius_m * view.scale, 0, 2 * Math.PI);
        lx = x; ly = y - z.circle.radius_m * view.scale - 4;
      } else {
        z.polygon.forEach((p, i) => {
          const [x, y] = toScreen(p[0], p[1]);
          if (i === 0) { ctx.moveTo(x, y); lx = x; ly = y - 4; } else ctx.lineTo(x, y);
        });
        ctx.closePath();
      }
      ctx.fillStyle = st.fill;
      ctx.fill();
      ctx.strokeStyle = st.stroke;
      ctx.lineWidth = 1.5;
      ctx.setLineDash(z.level === "critical" ? [] : [6, 4]);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = st.stroke;
      ctx.font = "11px system-ui, sans-serif";
      ctx.fillText(z.name, lx + 3, ly);
    }
  }

  function drawSensors(pic) {
    ctx.strokeStyle = "rgba(201,209,217,0.18)";
    ctx.setLineDash([2, 4]);
    for (const s of sensors) {
      if (FAR_SENSORS.has(s.type) || !s.max_range_m) continue;
      const p = s.position_enu_m || [0, 0];
      const [x, y] = toScreen(p[0], p[1]);
      ctx.beginPath();
      ctx.arc(x, y, s.max_range_m * view.scale, 0, 2 * Math.PI);
      ctx.stroke();
    }
    ctx.setLineDash([]);
    ctx.font = "10px system-ui, sans-serif";
    for (const s of sensors) {
      const p = s.position_enu_m || [0, 0];
      const [x, y] = toScreen(p[0], p[1]);
      const h = pic.health.get(s.id) || s.health;
      const bad = h && (h.silent || h.low_rate || h.fault);
      ctx.fillStyle = bad ? "#ff6b6b" : "#c9d1d9";
      ctx.strokeStyle = "#0d1117";
      ctx.beginPath();
      ctx.rect(x - 4, y - 4, 8, 8);
      ctx.fill();
      ctx.stroke();
      ctx.beginPath();
      ctx.moveTo(x - 4, y + 4); ctx.lineTo(x, y - 4); ctx.lineTo(x + 4, y + 4);
      ctx.stroke();
      const why = !bad ? "" : h.fault ? " (fault)" : h.silent ? " (silent)" : " (low rate)";
      ctx.fillText(s.id + why, x + 6, y + 3);
    }
  }

  function hull(points) {
    const pts = points.slice().sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    if (pts.length < 3) return pts;
    const cross = (o, a, b) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
    const lower = [], upper = [];
    for (const p of pts) {
      while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop();
      lower.push(p);
    }
    for (let i = pts.length - 1; i >= 0; i--) {
      const p = pts[i];
      while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop();
      upper.push(p);
    }
    upper.pop(); lower.pop();
    return lower.concat(upper);
  }

  function drawSwarms(pic) {
    ctx.strokeStyle = "rgba(255,120,200,0.9)";
    ctx.fillStyle = "rgba(255,120,200,0.08)";
    ctx.lineWidth = 1.5;
    ctx.setLineDash([4, 3]);
    for (const sw of pic.swarms.values()) {
      const pts = [];
      for (const id of sw.members || []) {
        const tr = pic.tracks.get(id);
        if (tr) pts.push(toScreen(tr.enu_m[0], tr.enu_m[1]));
      }
      const h = hull(pts);
      ctx.beginPath();
      let label;
      if (h.length >= 3) {
        // the hull pushed out 10 px from its centre, so members sit inside the line
        const mx = h.reduce((a, p) => a + p[0], 0) / h.length;
        const my = h.reduce((a, p) => a + p[1], 0) / h.length;
        h.forEach((p, i) => {
          const d = Math.hypot(p[0] - mx, p[1] - my) || 1;
          const x = p[0] + (p[0] - mx) / d * 10, y = p[1] + (p[1] - my) / d * 10;
          if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
        });
        ctx.closePath();
        label = [h[0][0], h[0][1] - 12];
      } else {
        const c = sw.centroid_enu_m || [0, 0];
        const [x, y] = toScreen(c[0], c[1]);
        const r = Math.max(12, (sw.spread_m || 0) * view.scale + 10);
        ctx.arc(x, y, r, 0, 2 * Math.PI);
        label = [x + r, y - r];
      }
      ctx.fill();
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = "rgba(255,120,200,0.95)";
      ctx.font = "11px system-ui, sans-serif";
      ctx.fillText("swarm " + sw.swarm_id + " (" + sw.count + ")", label[0], label[1]);
      ctx.fillStyle = "rgba(255,120,200,0.08)";
      ctx.setLineDash([4, 3]);
    }
    ctx.setLineDash([]);
  }

  function shapePath(shape, x, y, s) {
    switch (shape) {
      case "triangle": ctx.moveTo(x, y - s); ctx.lineTo(x + s, y + s * 0.8); ctx.lineTo(x - s, y + s * 0.8); ctx.closePath(); break;
      case "square": ctx.rect(x - s * 0.8, y - s * 0.8, s * 1.6, s * 1.6); break;
      case "diamond": ctx.moveTo(x, y - s); ctx.lineTo(x + s, y); ctx.lineTo(x, y + s); ctx.lineTo(x - s, y); ctx.closePath(); break;
      default: ctx.moveTo(x + s, y); ctx.arc(x, y, s, 0, 2 * Math.PI);
    }
  }

  function drawTracks(pic) {
    const groups = new Map();
    for (const tr of pic.tracks.values()) {
      const cls = CLASS_STYLE[tr.class] ? tr.class : "unknown";
      if (!groups.has(cls)) groups.set(cls, []);
      groups.get(cls).push(tr);
    }
    ctx.font = "10px system-ui, sans-serif";
    for (const [cls, list] of groups) {
      const st = CLASS_STYLE[cls];
      // trails and velocity leaders: one path per class
      ctx.strokeStyle = st.color;
      ctx.globalAlpha = 0.45;
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (const tr of list) {
        const trail = pic.trails.get(tr.track_id) || tr.trail || [];
        let first = true;
        for (const p of trail) {
          // [t, e, n, u] (older records may carry [e, n, u])
          const [x, y] = p.length >= 4 ? toScreen(p[1], p[2]) : toScreen(p[0], p[1]);
          if (first) { ctx.moveTo(x, y); first = false; } else ctx.lineTo(x, y);
        }
        if (!first) { const [x, y] = toScreen(tr.enu_m[0], tr.enu_m[1]); ctx.lineTo(x, y); }
      }
      ctx.stroke();
      ctx.globalAlpha = 1;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      for (const tr of list) {
        const [x, y] = toScreen(tr.enu_m[0], tr.enu_m[1]);
        const v = tr.vel_mps || [0, 0, 0];
        const [x2, y2] = toScreen(tr.enu_m[0] + v[0] * LEADER_S, tr.enu_m[1] + v[1] * LEADER_S);
        ctx.moveTo(x, y); ctx.lineTo(x2, y2);
      }
      ctx.stroke();
      // symbols
      ctx.fillStyle = st.color;
      ctx.beginPath();
      for (const tr of list) {
        const [x, y] = toScreen(tr.enu_m[0], tr.enu_m[1]);
        shapePath(st.shape, x, y, 5);
      }
      ctx.fill();
      // ids (skipped when the plan is crowded)
      if (pic.tracks.size <= 300) {
        for (const tr of list) {
          const [x, y] = toScreen(tr.enu_m[0], tr.enu_m[1]);
          ctx.fillText(String(tr.track_id) + (tr.suspect ? " !" : ""), x + 7, y - 6);
        }
      }
    }
    const sel = selected !== null ? pic.tracks.get(selected) : null;
    if (sel) {
      const [x, y] = toScreen(sel.enu_m[0], sel.enu_m[1]);
      ctx.strokeStyle = "#ffffff";
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.arc(x, y, 10, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }

  function resize() {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth, h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }

  function frame(now) {
    requestAnimationFrame(frame);
    if (!site || $("main").hidden) return;
    const t0 = performance.now();
    resize();
    const w = canvas.clientWidth, h = canvas.clientHeight;
    if (!view.fitted && w > 0 && h > 0) fit();
    ctx.fillStyle = "#0d1117";
    ctx.fillRect(0, 0, w, h);
    drawRings(w, h);
    drawZones();
    const pic = shown();
    drawSensors(pic);
    drawSwarms(pic);
    drawTracks(pic);
    if (alertsDirty) renderAlerts(pic);
    renderDetail(pic);
    renderTimebar(now);
    $("clock").textContent = "t = " + (live.t === null ? "–" : live.t.toFixed(1) + " s");
    $("counts").textContent = pic.tracks.size + " tracks, " + pic.swarms.size + " swarms";
    const dt = performance.now() - t0;
    frameTimesMs.push(dt);
    if (frameTimesMs.length > MAX_FRAMES) frameTimesMs.shift();
    if (lastFrame !== null) {
      frameIntervalsMs.push(now - lastFrame);
      if (frameIntervalsMs.length > MAX_FRAMES) frameIntervalsMs.shift();
    }
    lastFrame = now;
  }

  // ---- time bar: replay of the event store ------------------------------------
  // The stored span comes from /api/history/range (again every RANGE_REFRESH_MS);
  // the slider runs from its first tick to the live time. Picking a time shows
  // the recorded tick at or before it (/api/history/snapshot?t=); Play advances
  // a replay clock at 1x/4x/16x and fetches the tick it reaches (one request in
  // flight at a time, so a slow server skips ticks instead of falling behind).
  // Reaching the live time, or pressing Live, returns to the live picture.
  const slider = $("tb-slider");

  async function refreshRange() {
    replay.rangeAsked = performance.now();
    try {
      replay.range = await api("GET", "/api/history/range");
      replay.available = true;
    } catch (e) {
      if (e.status === 503) { replay.available = false; replay.error = e.message; }
    }
  }

  function liveT() {
    if (live.t !== null) return live.t;
    return replay.range && replay.range.t_last !== null ? replay.range.t_last : null;
  }

  function seek(t) {
    const first = replay.range ? replay.range.t_first : null;
    const end = liveT();
    if (first === null || end === null || !Number.isFinite(t)) return;
    t = Math.max(first, t);
    if (t >= end) { goLive(); return; }
    if (!replay.active) { replay.active = true; replay.pic = null; }
    replay.t = t;
    replay.anchorT = t;
    replay.anchorWall = performance.now();
    alertsDirty = true;
    request(t);
  }

  async function request(t) {
    if (replay.inFlight) { replay.pending = t; return; }
    replay.inFlight = true;
    const seq = replay.seq;
    // playing forward: the trails we have are extended here, not fetched again
    // (reading 32 s of records is most of the server's work for a big picture)
    const prev = replay.pic;
    const carry = replay.playing && prev !== null && t > prev.t && t - prev.t <= TRAIL_S;
    try {
      const msg = await api("GET", "/api/history/snapshot?t=" + encodeURIComponent(t) +
        (carry ? "&trails=false" : ""));
      if (replay.active && seq === replay.seq) {
        const pic = emptyPicture();
        applySnapshot(pic, msg);
        if (carry && replay.pic === prev) carryTrails(prev, pic);
        replay.pic = pic;
        replay.error = "";
        alertsDirty = true;
        lastDetail = null;
      }
    } catch (e) {
      if (seq === replay.seq) replay.error = "replay: " + e.message;
    } finally {
      replay.inFlight = false;
      const next = replay.pending; // asked for since (goLive clears it)
      replay.pending = null;
      if (next !== null && replay.active) request(next);
    }
  }

  function carryTrails(prev, pic) {
    for (const r of pic.tracks.values()) {
      const old = prev.trails.get(r.track_id);
      if (!old) continue;
      pic.trails.set(r.track_id, old.filter((p) => p[0] > pic.t - TRAIL_S && p[0] < r.t));
      extendTrail(pic, r);
    }
  }

  function play() {
    if (!replay.active) return;
    replay.playing = true;
    replay.anchorT = replay.t;
    replay.anchorWall = performance.now();
  }

  function pause() { replay.playing = false; }

  function goLive() {
    replay.active = false;
    replay.playing = false;
    replay.pic = null;
    replay.pending = null;
    replay.seq += 1; // answers still on their way are dropped
    alertsDirty = true;
    lastDetail = null;
  }

  const shownText = {};
  function setText(id, text) { if (shownText[id] !== text) { shownText[id] = text; $(id).textContent = text; } }
  function setHidden(id, hidden) { const e = $(id); if (e.hidden !== hidden) e.hidden = hidden; }
  function setDisabled(id, off) { const e = $(id); if (e.disabled !== off) e.disabled = off; }

  function renderTimebar(now) {
    if (replay.available !== false && now - replay.rangeAsked > RANGE_REFRESH_MS) refreshRange();
    if (replay.playing) {
      replay.t = replay.anchorT + (performance.now() - replay.anchorWall) / 1000 * replay.speed;
      const end = liveT();
      if (end !== null && replay.t >= end) goLive();
      else if (!replay.inFlight && (!replay.pic || replay.t - replay.pic.t >= 1)) request(replay.t);
    }
    const first = replay.range ? replay.range.t_first : null;
    const end = liveT();
    const usable = replay.available === true && first !== null && end !== null && end > first;
    setDisabled("tb-slider", !usable);
    setDisabled("tb-back", !usable);
    setDisabled("tb-play", !replay.active);
    setDisabled("tb-live", !replay.active);
    setText("tb-play", replay.playing ? "\u275a\u275a Pause" : "\u25b6 Play");
    if (usable) {
      if (slider.min !== String(first)) slider.min = String(first);
      if (slider.max !== String(end)) slider.max = String(end);
      if (!replay.held) {
        const v = String(replay.active ? replay.t : end);
        if (slider.value !== v) slider.value = v;
      }
      setText("tb-span", "recorded from t = " + first.toFixed(0) + " s \u00b7 live t = " + end.toFixed(1) + " s");
    } else {
      setText("tb-span", replay.available === false ? "no recorded history (no event store)" : "no recorded history yet");
    }
    setText("tb-note", replay.error);
    // replay must never be mistaken for live: banner on, live clock and status off
    setHidden("replay-banner", !replay.active);
    setHidden("clock", replay.active);
    setHidden("conn", replay.active);
    if (document.body.classList.contains("replaying") !== replay.active) {
      document.body.classList.toggle("replaying", replay.active);
    }
    if (replay.active) {
      const pic = replay.pic;
      setText("replay-banner", "REPLAY t=" + (pic ? pic.t.toFixed(1) + " s" : "\u2026 (loading " + replay.t.toFixed(1) + " s)") +
        (replay.playing ? " \u00b7 playing " + replay.speed + "\u00d7" : " \u00b7 paused") +
        " \u00b7 not live: press Live to return");
    }
  }

  slider.addEventListener("pointerdown", () => { replay.held = true; });
  slider.addEventListener("pointerup", () => { replay.held = false; });
  slider.addEventListener("input", () => seek(Number(slider.value)));
  slider.addEventListener("change", () => { replay.held = false; seek(Number(slider.value)); });
  $("tb-back").addEventListener("click", () => {
    const from = replay.active ? replay.t : liveT();
    if (from !== null) seek(from - 60);
  });
  $("tb-play").addEventListener("click", () => (replay.playing ? pause() : play()));
  $("tb-speed").addEventListener("change", () => {
    replay.speed = Number($("tb-speed").value) || 1;
    if (replay.playing) play(); // re-anchor the replay clock at the new speed
  });
  $("tb-live").addEventListener("click", () => goLive());

  // ---- alerts -----------------------------------------------------------------
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function renderAlerts(pic) {
    alertsDirty = false;
    const list = Array.from(pic.alerts.values());
    list.sort((a, b) => (a.t_end === null) === (b.t_end === null)
      ? (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9) || a.t_start - b.t_start
      : (a.t_end === null ? -1 : 1));
    const ul = $("alerts");
    ul.replaceChildren();
    for (const a of list) {
      const li = el("li", (a.severity || "") + (a.t_end !== null ? " ended" : ""));
      li.dataset.alertId = a.alert_id;
      li.append(el("div", "", (a.severity || "").toUpperCase() + " · " + a.kind + (a.zone ? " · " + a.zone : "")));
      li.append(el("div", "reason", a.reason || ""));
      const meta = el("div", "meta", "since t=" + Number(a.t_start).toFixed(0) + " s" +
        (a.t_end !== null ? ", ended t=" + Number(a.t_end).toFixed(0) + " s" : "") +
        (a.track_ids && a.track_ids.length ? " · tracks " + a.track_ids.join(", ") : ""));
      li.append(meta);
      if (a.acked_by) {
        li.append(el("div", "acked", "acknowledged by " + a.acked_by +
          (a.t_ack !== null && a.t_ack !== undefined ? " at t=" + Number(a.t_ack).toFixed(0) + " s" : "")));
      } else {
        const b = el("button", "ack", "Acknowledge");
        if (replay.active) {
          b.disabled = true; // the recorded past cannot be acknowledged: return to live
          b.title = "Replaying the record: press Live to acknowledge";
        } else {
          b.addEventListener("click", () => acknowledge(a.alert_id, b));
        }
        li.append(b);
      }
      ul.append(li);
    }
    $("alert-count").textContent = "(" + list.filter((a) => a.t_end === null).length + " active)";
  }

  async function acknowledge(id, button) {
    button.disabled = true;
    $("alert-error").textContent = "";
    try {
      const rec = await api("POST", "/api/alerts/" + encodeURIComponent(id) + "/ack", {});
      if (rec && rec.alert_id) live.alerts.set(rec.alert_id, rec);
      alertsDirty = true;
    } catch (e) {
      button.disabled = false;
      $("alert-error").textContent = e.status === 403
        ? "Not allowed to acknowledge (403): " + e.message
        : "Acknowledge failed (" + (e.status || "network") + "): " + e.message;
    }
  }

  // ---- track detail -----------------------------------------------------------
  function select(id) {
    selected = id;
    $("detail").hidden = id === null;
    lastDetail = null;
  }
  $("detail-close").addEventListener("click", () => select(null));

  let lastDetail = null;
  function fmt(x, d) { return x === null || x === undefined ? "–" : Number(x).toFixed(d); }

  function renderDetail(pic) {
    if (selected === null) return;
    const tr = pic.tracks.get(selected);
    if (tr === lastDetail) return;
    lastDetail = tr;
    const body = $("detail-body");
    $("detail-title").textContent = "Track " + selected;
    if (!tr) { body.replaceChildren(el("p", "", "Track " + selected + " is no longer in the picture.")); return; }
    const tab = el("table");
    const row = (k, v) => { const r = el("tr"); r.append(el("th", "", k)); const td = el("td"); if (v instanceof Node) td.append(v); else td.textContent = v; r.append(td); tab.append(r); };
    const v = tr.vel_mps || [0, 0, 0];
    row("class", tr.class);
    row("threat", fmt(tr.threat, 2));
    row("cooperative id", tr.cooperative_id ?? "none");
    if (tr.suspect) row("suspect", "cooperative broadcast contradicted by the sensors");
    row("swarm", tr.swarm_id ?? "–");
    row("position (e, n, u)", tr.enu_m.map((x) => fmt(x, 0)).join(", ") + " m");
    row("speed", fmt(Math.hypot(v[0], v[1], v[2]), 1) + " m/s");
    row("range", fmt(Math.hypot(tr.enu_m[0], tr.enu_m[1]), 0) + " m");
    if (tr.operator_enu_m) row("operator at", tr.operator_enu_m.map((x) => fmt(x, 0)).join(", ") + " m");
    const probs = el("table");
    for (const [k, p] of Object.entries(tr.class_prob || {})) {
      const r = el("tr");
      r.append(el("td", "", k));
      const td = el("td");
      const bar = el("span", "bar");
      bar.style.width = Math.round(p * 100) + "px";
      td.append(bar, document.createTextNode(" " + fmt(p, 2)));
      r.append(td);
      probs.append(r);
    }
    row("class probability", probs);
    if (tr.evidence && typeof tr.evidence === "object") {
      const ev = el("table");
      for (const [src, per] of Object.entries(tr.evidence)) {
        const text = per && typeof per === "object"
          ? Object.entries(per).map(([k, n]) => k + " " + fmt(n, 2)).join(", ")
          : fmt(per, 2);
        const r = el("tr");
        r.append(el("td", "", src), el("td", "", text));
        ev.append(r);
      }
      row("evidence (nats vs unknown)", ev);
    }
    const zones = tr.zones;
    if (zones && !Array.isArray(zones) && typeof zones === "object") {
      const zt = el("table");
      for (const [z, s] of Object.entries(zones)) {
        const r = el("tr");
        r.append(el("td", "", z), el("td", "", s === null ? "not heading there" : s === 0 ? "inside" : fmt(s, 0) + " s"));
        zt.append(r);
      }
      row("time to zone", zt);
    } else if (Array.isArray(zones)) {
      row("zones", zones.join(", ") || "–");
    }
    body.replaceChildren(tab);
  }

  window.skyfence = { live, replay, frameTimesMs, frameIntervalsMs, toScreen, toEnu, view, select,
    seek, play, pause, goLive,
    get picture() { return shown(); }, // the picture on the screen: live, or the replayed one
    get selected() { return selected; } };
  requestAnimationFrame(frame);
  if (token) start();
})();
