// The status page of `shopforce run`: polls /status/snapshot.json and draws it. The access token,
// when the server has one, comes from the address (#token=...) and never reaches the server's logs.
(function () {
  'use strict';
  const POLL_MS = 2000;
  const COLORS = ['#0969da', '#1a7f37', '#bf8700', '#8250df', '#cf222e', '#1b7c83', '#bc4c00', '#57606a'];
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  const charts = {};
  const $ = (id) => document.getElementById(id);

  function text(el, value) {
    el.textContent = value === null || value === undefined ? '' : String(value);
    return el;
  }

  function cell(tag, value, cls) {
    const el = text(document.createElement(tag), value);
    if (cls) el.className = cls;
    return el;
  }

  /** Fills a table: columns are [title, value-of-row, class?]; `none` is said when there are no rows. */
  function table(id, columns, rows, none) {
    const t = $(id);
    t.replaceChildren();
    if (rows.length === 0) {
      t.append(cell('caption', none, 'empty'));
      return;
    }
    const head = t.createTHead().insertRow();
    for (const [title, , cls] of columns) head.append(cell('th', title, cls));
    const body = t.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      for (const [, value, cls] of columns) tr.append(cell('td', value(row), cls));
    }
  }

  const when = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '');
  const round = (n, digits) => (n === null || n === undefined ? '' : Number(n).toFixed(digits));

  /** Draws (or updates) one time-series chart; rebuilt when its lines change. */
  function chart(id, t, lines) {
    const el = $(id);
    const data = [t, ...lines.map((l) => l.values)];
    // how many values above zero each line has, and all together: what a test (or a person) can check
    const counts = lines.map((l) => [l.label, l.values.filter((v) => v !== null && v > 0).length]);
    el.dataset.points = String(counts.reduce((n, [, c]) => n + c, 0));
    el.dataset.seriesPoints = JSON.stringify(Object.fromEntries(counts));
    const key = lines.map((l) => `${l.label}|${l.dash ? 1 : 0}`).join(',');
    const existing = charts[id];
    if (existing && existing.key === key) {
      existing.plot.setData(data);
      return;
    }
    if (existing) existing.plot.destroy();
    el.replaceChildren();
    const opts = {
      width: Math.max(300, el.clientWidth),
      height: 220,
      scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(max, 1)] } },
      series: [{}, ...lines.map((l) => ({ label: l.label, stroke: l.color, width: 2, dash: l.dash ? [4, 4] : undefined, spanGaps: false, points: { show: false } }))],
      axes: [{ values: (_u, ticks) => ticks.map((t) => new Date(t * 1000).toLocaleTimeString()) }, { size: 60 }],
    };
    charts[id] = { key, plot: new uPlot(opts, data, el) };
  }

  function drawCharts(w) {
    chart('chart-throughput', w.t, w.throughput.map((s, i) => ({ label: s.name, values: s.values, color: COLORS[i % COLORS.length] })));
    const latency = [];
    w.latencyP95.forEach((s, i) => latency.push({ label: `${s.name} p95`, values: s.values, color: COLORS[i % COLORS.length] }));
    w.latencyP50.forEach((s, i) => latency.push({ label: `${s.name} median`, values: s.values, color: COLORS[i % COLORS.length], dash: true }));
    chart('chart-latency', w.t, latency);
  }

  function drawStages(s) {
    text($('shop'), s.shopId);
    $('stages').replaceChildren(...s.stages.map((st) => {
      const li = cell('li', st.name, st.ready ? 'ready' : '');
      li.title = `${st.role}: ${st.ready ? 'ready' : 'not ready'}`;
      return li;
    }));
    text($('updated'), `updated ${when(s.at)}`);
  }

  function drawQuota(q) {
    $('quota').value = q.remainingPercent === null ? 0 : q.remainingPercent;
    text($('quota-text'), q.remainingPercent === null
      ? `not known yet: Salesforce tells it with the sink's first call (${q.apiCalls} so far)`
      : `${round(q.remainingPercent, 1)} % of the daily quota left (${q.apiCalls} calls by this process)`);
  }

  function drawSource(source) {
    if (!source) {
      text($('source-mode'), 'no Salesforce source in this process');
      table('channels', [], [], 'none');
      return;
    }
    text($('source-mode'), `${source.mode}, ${source.running ? 'running' : 'stopped'}`);
    table('channels', [
      ['object', (c) => c.object], ['state', (c) => c.state],
      ['replay id', (c) => (c.checkpoint ? c.checkpoint.replayId : 'none yet')],
      ['events', (c) => c.events, 'num'], ['last activity', (c) => when(c.lastActivityAt)], ['last error', (c) => c.lastError, 'reason'],
    ], source.channels, 'no channel');
    $('source-alerts').replaceChildren(...source.alerts.slice(-5).reverse().map((a) => cell('li', `${when(a.at)} ${a.kind} on ${a.channel}: ${a.message}`)));
  }

  function drawLag(s) {
    text($('groups-at'), s.groups.error ? `could not read: ${s.groups.error}` : s.groups.at ? `as of ${when(s.groups.at)}` : 'reading…');
    table('groups', [['stage', (g) => g.stage], ['group state', (g) => g.state], ['copies', (g) => g.members, 'num'], ['lag', (g) => g.lag, 'num']],
      s.groups.stages, s.groups.at ? 'no consumer group' : 'reading the consumer groups…');
    // one row per stage and topic: each partition's lag on it, then their sum
    const topics = new Map();
    for (const p of s.partitions) {
      const key = `${p.stage} ${p.topic}`;
      if (!topics.has(key)) topics.set(key, { stage: p.stage, topic: p.topic, partitions: [] });
      topics.get(key).partitions.push(p);
    }
    table('partitions', [
      ['stage', (t) => t.stage], ['topic', (t) => t.topic],
      ['lag by partition', (t) => t.partitions.map((p) => `${p.partition}: ${p.lag}`).join(' · ')],
      ['lag', (t) => t.partitions.reduce((n, p) => n + p.lag, 0), 'num'],
    ], [...topics.values()], 'no partition processed yet');
  }

  function drawAlerts(alerts) {
    table('alerts', [['at', (a) => when(a.at)], ['entity', (a) => a.entity], ['kind', (a) => a.kind], ['key', (a) => a.key], ['message', (a) => a.message, 'reason']],
      alerts, 'no conflict or alert since this process started');
  }

  function drawDeadLetters(d) {
    text($('dlq-at'), d.error ? `could not read: ${d.error}` : d.at ? `as of ${when(d.at)}` : 'reading…');
    const sum = d.summary;
    text($('dlq-summary'), sum
      ? `${sum.total} on ${sum.topic}, ${sum.notReplayed} not replayed (shopforce dlq replay); ${d.sentByThisProcess} sent by this process`
      : `${d.sentByThisProcess} sent by this process`);
    table('dead-letters', [
      ['failed at', (l) => when(l.failedAt)], ['stage', (l) => l.processor], ['reason', (l) => l.reason, 'reason'], ['key', (l) => l.key], ['from', (l) => l.source],
    ], sum ? sum.latest : [], 'no dead letter');
  }

  function draw(s) {
    drawStages(s);
    drawCharts(s.window);
    drawQuota(s.quota);
    drawSource(s.source);
    drawLag(s);
    drawAlerts(s.alerts);
    drawDeadLetters(s.deadLetters);
  }

  function problem(message) {
    const p = $('problem');
    p.hidden = !message;
    text(p, message);
  }

  async function poll() {
    try {
      const res = await fetch('status/snapshot.json', { headers: token ? { authorization: `Bearer ${token}` } : {}, cache: 'no-store' });
      if (res.status === 401) problem('This process has an access token (observability.accessToken): open the page as …/status#token=<token>.');
      else if (!res.ok) problem(`The snapshot failed: HTTP ${res.status}`);
      else {
        problem('');
        draw(await res.json());
      }
    } catch (err) {
      problem(`The process does not answer (${err.message}); trying again.`);
    }
    setTimeout(poll, POLL_MS);
  }

  window.addEventListener('resize', () => {
    for (const id of Object.keys(charts)) charts[id].plot.setSize({ width: Math.max(300, $(id).clientWidth), height: 220 });
  });
  poll();
})();
