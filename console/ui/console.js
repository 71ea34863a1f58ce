// SPDX-License-Identifier: GPL-2.0-only
// edgeshift console: the node, resource, sessions, migrations and
// session-test views over the console's /api/*. Everything that comes from outside (node, pod and
// interface names, addresses) reaches the page through textContent only,
// never as markup: a node named "<img onerror=...>" shows as that text.
'use strict';

(function () {
	const RESOURCES = [
		{ key: 'cpu_utilisation', title: 'CPU (% of all CPUs)', scale: 100, unit: '%' },
		{ key: 'memory_utilisation', title: 'Memory (% in use)', scale: 100, unit: '%' },
		{ key: 'rx_utilisation', title: 'Network in (% of uplink)', scale: 100, unit: '%' },
		{ key: 'tx_utilisation', title: 'Network out (% of uplink)', scale: 100, unit: '%' },
		{ key: 'sessions', title: 'Active sessions', scale: 1, unit: '' },
		{ key: 'p50_us', title: 'Service latency p50 (µs)', scale: 1, unit: 'µs' },
		{ key: 'p99_us', title: 'Service latency p99 (µs)', scale: 1, unit: 'µs' },
	];
	const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf',
		'#8c564b', '#e377c2'];
	const state = {
		refreshMs: 1000, nodes: [], charts: {}, chartNodes: '',
		sessNode: null, sort: 'bytes', order: 'desc', sessLoaded: false,
	};
	const $ = (id) => document.getElementById(id);
	const VIEWS = ['nodes', 'resources', 'sessions', 'migrations', 'session-test'];

	// An element whose text (never markup) is text.
	function el(tag, text, cls) {
		const e = document.createElement(tag);
		if (text !== undefined && text !== null)
			e.textContent = String(text);
		if (cls)
			e.className = cls;
		return e;
	}

	function numCell(text, raw) {
		const td = el('td', text);
		td.dataset.v = raw === null || raw === undefined ? '' : String(raw);
		return td;
	}

	const pct = (u) => (u === null || u === undefined ? '–' : (u * 100).toFixed(1) + ' %');
	function bps(b) {
		if (b === null || b === undefined)
			return '–';
		const u = [[1e9, 'Gbit/s'], [1e6, 'Mbit/s'], [1e3, 'kbit/s']];
		for (const [f, n] of u)
			if (b >= f)
				return (b / f).toFixed(1) + ' ' + n;
		return b.toFixed(0) + ' bit/s';
	}
	function us(v) {
		if (v === null || v === undefined)
			return '–';
		return v >= 1000 ? (v / 1000).toFixed(2) + ' ms' : v.toFixed(1) + ' µs';
	}

	async function getJSON(url) {
		const r = await fetch(url, { cache: 'no-store' });
		const body = await r.json();
		if (!r.ok)
			throw new Error(body.error || ('HTTP ' + r.status));
		return body;
	}

	function setStatus(text, bad) {
		$('status').textContent = text;
		$('status').className = bad ? 'error' : '';
	}

	function nodeRow(n) {
		const v = n.view || {};
		const up = v.uplink || {};
		const rx = up.rx || {}, tx = up.tx || {};
		const svc = (v.latency || {}).service || {};
		const host = v.host || {};
		const tr = el('tr');
		tr.dataset.nodeId = String(n.id);
		tr.dataset.role = n.role;
		if (!n.reachable)
			tr.className = 'down';
		tr.append(el('td', n.name, 'name text'),
			el('td', n.role === 'control-plane' ? 'control plane' : 'worker',
				'role text role-' + n.role),
			numCell(pct(host.cpu_utilisation), host.cpu_utilisation),
			numCell(pct(host.memory_utilisation), host.memory_utilisation),
			numCell(pct(rx.utilisation), rx.utilisation),
			numCell(pct(tx.utilisation), tx.utilisation),
			numCell(bps(rx.bps), rx.bps),
			numCell(bps(tx.bps), tx.bps),
			numCell(bps(up.capacity_bps), up.capacity_bps),
			numCell(v.sessions_active === undefined ? '–' : v.sessions_active,
				v.sessions_active),
			numCell(us(svc.p50_us), svc.p50_us),
			numCell(us(svc.p99_us), svc.p99_us),
			sourceCell(n),
			el('td', n.reachable ? 'up' : 'unreachable: ' + n.error, 'state text'));
		const keys = ['cpu', 'memory', 'rx-util', 'tx-util', 'rx-bps', 'tx-bps', 'capacity',
			'sessions', 'p50', 'p99'];
		keys.forEach((k, i) => tr.cells[i + 2].classList.add(k));
		return tr;
	}

	// Where the row's figures come from: Prometheus, else the agent (and why).
	function sourceCell(n) {
		const td = el('td', n.source === 'prometheus' ? 'Prometheus' : 'agent', 'source text');
		td.dataset.source = n.source;
		if (n.source_note)
			td.title = n.source_note;
		if (n.age_ms !== null && n.age_ms !== undefined) {
			td.dataset.ageMs = String(n.age_ms);
			td.append(el('span', ' ' + (n.age_ms / 1000).toFixed(1) + ' s ago', 'age'));
		}
		return td;
	}

	function renderNodesSource(doc) {
		const p = $('nodes-source');
		const fromProm = doc.nodes.filter((n) => n.source === 'prometheus').length;
		p.dataset.prometheusError = doc.prometheus_error || '';
		if (!doc.prometheus)
			p.textContent = 'From the agents (no Prometheus given to the console).';
		else if (doc.prometheus_error)
			p.textContent = 'From the agents: ' + doc.prometheus_error;
		else if (fromProm === doc.nodes.length)
			p.textContent = 'From Prometheus, as it last scraped each agent.';
		else
			p.textContent = 'From Prometheus for ' + fromProm + ' of ' + doc.nodes.length +
				' nodes, the others from their agents (Prometheus has no live series of them).';
	}

	function renderNodes(doc) {
		state.nodes = doc.nodes;
		state.refreshMs = doc.refresh_ms || state.refreshMs;
		$('nodes-body').replaceChildren(...doc.nodes.map(nodeRow));
		renderNodesSource(doc);
		$('mode').textContent = doc.read_only ? 'read-only' : 'actions enabled';
		renderNodeChoice();
	}

	// A choice of the nodes (their names as text), rebuilt only when they change.
	function fillNodes(sel, key) {
		if (sel.dataset.key === key)
			return false;
		const was = sel.value;
		sel.dataset.key = key;
		sel.replaceChildren(...state.nodes.map((n) => {
			const o = el('option', n.name);
			o.value = String(n.id);
			return o;
		}));
		if (state.nodes.some((n) => String(n.id) === was))
			sel.value = was;
		return true;
	}

	function renderNodeChoice() {
		const key = state.nodes.map((n) => n.id + '\u0000' + n.name).join('\u0001');
		fillNodes($('mig-from'), key);
		if (fillNodes($('mig-to'), key) && $('mig-to').selectedIndex === 0 &&
		    state.nodes.length > 1)
			$('mig-to').selectedIndex = 1;
		if (!fillNodes($('sess-node'), key))
			return;
		if (state.sessNode === null && state.nodes.length)
			state.sessNode = state.nodes[0].id;
		$('sess-node').value = String(state.sessNode);
	}

	// Counts the pixels of the plot area painted in one of the series' colours.
	function linePixels(u) {
		const { left, top, width, height } = u.bbox;
		if (width < 1 || height < 1)
			return 0;
		// A copy read back, so the chart's own canvas stays fast to draw.
		const scratch = state.scratch || (state.scratch = document.createElement('canvas'));
		scratch.width = width;
		scratch.height = height;
		const sc = scratch.getContext('2d', { willReadFrequently: true });
		sc.drawImage(u.ctx.canvas, left, top, width, height, 0, 0, width, height);
		const px = sc.getImageData(0, 0, width, height).data;
		const rgb = u.series.slice(1).map((_, i) => {
			const h = COLORS[i % COLORS.length];
			return [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16));
		});
		let n = 0;
		for (let i = 0; i < px.length; i += 4) {
			if (px[i + 3] < 128)
				continue;
			for (const c of rgb) {
				if (Math.abs(px[i] - c[0]) + Math.abs(px[i + 1] - c[1]) +
				    Math.abs(px[i + 2] - c[2]) < 60) {
					n++;
					break;
				}
			}
		}
		return n;
	}

	function chartWidth() {
		const w = $('charts').clientWidth || window.innerWidth || 1200;
		return Math.max(360, Math.min(600, w / 2 - 40));
	}

	function makeChart(res, nodes) {
		const box = el('div', null, 'chart');
		box.dataset.resource = res.key;
		box.append(el('h3', res.title));
		const series = [{}].concat(nodes.map((n, i) => ({
			label: n.name, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true,
			value: (u, v) => (v === null || v === undefined ? '–' :
				v.toFixed(res.scale === 100 ? 1 : 0) + (res.unit ? ' ' + res.unit : '')),
		})));
		const opts = {
			width: chartWidth(), height: 220, series,
			scales: { x: { time: true }, y: { range: (u, lo, hi) => [0, Math.max(hi, 1)] } },
			hooks: { draw: [(u) => {
				box.dataset.linePixels = String(linePixels(u));
			}] },
		};
		$('charts').append(box);
		return new uPlot(opts, [[]].concat(nodes.map(() => [])), box);
	}

	function renderHistory(doc) {
		const nodes = doc.nodes;
		const src = $('history-source');
		state.historySource = doc.source;
		src.dataset.source = doc.source;
		src.textContent = doc.source === 'prometheus' ? 'from Prometheus' :
			'the console\'s own samples, last ' + Math.round(doc.window_s / 60) + ' min' +
			(doc.prometheus_error ? ' (Prometheus: ' + doc.prometheus_error + ')' : '');
		const key = nodes.map((n) => n.id + '\u0000' + n.name).join('\u0001');
		if (key !== state.chartNodes) {
			for (const c of Object.values(state.charts))
				c.destroy();
			$('charts').replaceChildren();
			state.charts = {};
			state.chartNodes = key;
			for (const r of RESOURCES)
				state.charts[r.key] = makeChart(r, nodes);
		}
		for (const r of RESOURCES) {
			const tables = nodes.map((n) => [n.t, n[r.key].map((v) =>
				(v === null ? null : v * r.scale))]);
			const data = tables.length ? uPlot.join(tables) : [[]];
			let points = 0;
			for (let s = 1; s < data.length; s++)
				points += data[s].filter((v) => v !== null && v !== undefined).length;
			state.charts[r.key].root.parentNode.dataset.points = String(points);
			state.charts[r.key].setData(data);
		}
	}

	// The time of day (UTC), the whole timestamp on hover.
	function timeCell(iso) {
		const td = el('td', typeof iso === 'string' ? iso.slice(11, 19) : '');
		td.title = iso || '';
		return td;
	}

	function sessionRow(s) {
		const lat = s.latency || {};
		const latUs = lat.tcp_handshake_us !== undefined ? lat.tcp_handshake_us : lat.mean_us;
		const tr = el('tr');
		tr.append(el('td', s.protocol, 'text'), el('td', s.interface, 'text'),
			el('td', s.pod || '', 'text'), el('td', s.endpoint_lo, 'text'),
			el('td', s.endpoint_hi, 'text'),
			numCell(s.rx.packets + s.tx.packets, s.rx.packets + s.tx.packets),
			numCell(s.rx.bytes + s.tx.bytes, s.rx.bytes + s.tx.bytes),
			timeCell(s.first_seen), timeCell(s.last_seen),
			numCell(us(latUs), latUs), el('td', s.state || '', 'text'));
		return tr;
	}

	function renderSessions(doc) {
		const a = doc.agent;
		$('sessions-body').replaceChildren(...a.sessions.map(sessionRow));
		$('sess-matched').textContent = a.count + ' of ' + a.matched + ' sessions of ' +
			a.node + ', by ' + a.sort + ' (' + state.order + ')';
		$('sessions-table').dataset.nodeId = String(doc.node_id);
		for (const th of document.querySelectorAll('#sessions-table th[data-sort]'))
			th.className = th.dataset.sort === state.sort ? 'sorted-' + state.order : '';
		state.sessLoaded = true;
	}

	async function loadSessions() {
		if (state.sessNode === null)
			return;
		const q = new URLSearchParams({ node: state.sessNode, sort: state.sort,
			order: state.order, limit: $('sess-limit').value });
		try {
			renderSessions(await getJSON('api/sessions?' + q));
		} catch (e) {
			$('sess-matched').textContent = 'sessions unavailable: ' + e.message;
		}
		state.sessLoaded = true;	/* tried: the view asks again when shown */
	}

	// ---- migrations: each one's steps and phases on one time axis ----

	// A zero-downtime migration's steps, in the order they happen (the agent's names).
	const ZDM_STEPS = ['requested', 'forwarding', 'held', 'checkpointed', 'resumed', 'restored',
		'cut_over', 'source_stopped', 'done', 'failed'];

	const nsMs = (ns) => ns / 1e6;

	// The migration's start (ms, realtime), its steps [{name, ms}] in order and
	// its engine phases [{name, start, end}] (end null: still running).
	function migTimes(m) {
		const eng = m.kind === 'plain' ? m : m.engine;
		const steps = [];
		let t0 = eng && eng.requested_ns ? nsMs(eng.requested_ns) : null;
		if (m.kind !== 'plain') {
			for (const name of ZDM_STEPS)
				if (m.steps && m.steps[name])
					steps.push({ name, ms: nsMs(m.steps[name]) });
			if (steps.length)
				t0 = steps[0].ms;
		}
		const phases = ((eng && eng.phases) || []).map((p) => ({ name: p.name,
			start: nsMs(p.start_ns), end: p.end_ns ? nsMs(p.end_ns) : null }));
		return { t0, steps, phases };
	}

	function migEnd(m, t) {
		let end = t.t0 || 0;
		for (const s of t.steps)
			end = Math.max(end, s.ms);
		for (const p of t.phases)
			end = Math.max(end, p.end || p.start);
		// a running one grows until now, as it happens
		return m.state === 'running' ? Math.max(end, Date.now()) : end;
	}

	function placed(e, t0, span, from, to) {
		e.style.left = (100 * (from - t0) / span).toFixed(2) + '%';
		if (to !== undefined)
			e.style.width = Math.max(0.4, 100 * (to - from) / span).toFixed(2) + '%';
		return e;
	}

	function lane(name, items) {
		const row = el('div', null, 'lane ' + name);
		const track = el('div', null, 'track');
		track.append(...items);
		row.append(el('span', name, 'lane-name'), track);
		return row;
	}

	// The drill's plot, live: a marker per step reached, a bar per engine phase.
	function timeline(m, t) {
		const end = migEnd(m, t), span = Math.max(1, end - t.t0);
		const box = el('div', null, 'timeline');
		box.dataset.totalMs = span.toFixed(1);
		// labels on three rows: steps a few ms apart stay readable
		const marks = t.steps.map((s, i) => {
			const e = placed(el('span', s.name, 'step row-' + (i % 3)), t.t0, span, s.ms);
			e.dataset.step = s.name;
			e.dataset.ms = (s.ms - t.t0).toFixed(1);
			e.title = s.name + ' at ' + (s.ms - t.t0).toFixed(1) + ' ms';
			return e;
		});
		const bars = t.phases.map((p) => {
			const stop = p.end === null ? end : p.end;
			const e = placed(el('span', p.name, 'phase'), t.t0, span, p.start, stop);
			e.dataset.phase = p.name;
			e.dataset.startMs = (p.start - t.t0).toFixed(1);
			e.dataset.ms = p.end === null ? '' : (p.end - p.start).toFixed(1);
			if (p.end === null)
				e.classList.add('running');
			e.title = p.name + ': ' + (p.end === null ? 'running' : e.dataset.ms + ' ms');
			return e;
		});
		if (marks.length)
			box.append(lane('steps', marks));
		box.append(lane('engine', bars));
		box.append(el('div', '0 ms … ' + span.toFixed(0) + ' ms' +
			(m.state === 'running' ? ' (running)' : ''), 'axis'));
		return box;
	}

	function stepTable(t) {
		const tb = el('tbody');
		const rows = t.steps.length ? t.steps.map((s, i) => [s.name, s.ms,
			i + 1 < t.steps.length ? t.steps[i + 1].ms - s.ms : null]) :
			t.phases.map((p) => [p.name, p.start, p.end === null ? null : p.end - p.start]);
		tb.replaceChildren(...rows.map(([name, at, dur]) => {
			const tr = el('tr');
			tr.append(el('td', name, 'text'), numCell((at - t.t0).toFixed(1) + ' ms', at - t.t0),
				numCell(dur === null ? '–' : dur.toFixed(1) + ' ms', dur));
			return tr;
		}));
		const table = el('table', null, 'mig-steps');
		const head = el('tr');
		head.append(el('th', t.steps.length ? 'Step' : 'Phase', 'text'), el('th', 'At'),
			el('th', 'For'));
		const th = el('thead');
		th.append(head);
		table.append(th, tb);
		return table;
	}

	function migrationBox(m) {
		const t = migTimes(m);
		const box = el('div', null, 'migration state-' + m.state);
		Object.assign(box.dataset, { id: m.id, kind: m.kind, state: m.state,
			nodeId: String(m.node_id), container: m.container });
		box.append(el('h3', m.kind + ' migration of ' + m.container + ': ' + m.from +
			' \u2192 ' + m.to));
		const now = m.kind === 'plain' ? m.phase : m.step;
		const meta = [m.state, now ? 'at ' + now : '', m.mode,
			m.session ? 'session ' + m.session : '', 'seen by ' + m.node].filter(Boolean);
		box.append(el('p', meta.join(' \u00b7 '), 'mig-meta'));
		if (m.error)
			box.append(el('p', 'error: ' + m.error, 'mig-error'));
		if (t.t0 !== null) {
			box.append(timeline(m, t));
			box.append(stepTable(t));
		}
		return box;
	}

	function renderMigrations(doc) {
		const t0 = (m) => migTimes(m).t0 || 0;
		const list = doc.migrations.slice().sort((a, b) => t0(b) - t0(a));
		$('migrations-list').replaceChildren(...list.map(migrationBox));
		const why = doc.errors.map((e) => e.node + ': ' + e.error);
		$('mig-status').textContent = list.length + ' migration' + (list.length === 1 ? '' : 's') +
			(why.length ? '; unanswered: ' + why.join('; ') : '');
		$('mig-status').dataset.count = String(list.length);
	}

	async function loadMigrations() {
		try {
			renderMigrations(await getJSON('api/migrations'));
		} catch (e) {
			$('mig-status').textContent = 'migrations unavailable: ' + e.message;
			$('mig-status').dataset.count = '';
		}
		state.migLoaded = true;
	}

	// The form's migration, started at the source node's agent; the list then shows it.
	async function migStart(ev) {
		ev.preventDefault();
		const kind = $('mig-kind').value;
		const body = { kind, container: $('mig-container').value.trim(),
			from: Number($('mig-from').value), to: Number($('mig-to').value) };
		if (kind === 'migrate')
			body.stop_source = $('mig-stop').checked;
		try {
			const doc = await action('api/migrations', 'mig-token', 'POST', body);
			message('mig-message', 'started: ' + doc.kind + ' migration ' + doc.agent.id +
				' of ' + body.container, false);
			$('mig-message').dataset.id = doc.agent.id;
			await loadMigrations();
		} catch (e) {
			message('mig-message', 'not started: ' + e.message, true);
		}
	}

	// ---- session test: Paper A's form, its progress, the latency against sessions ----

	const ST_SERIES = [
		{ key: 'mean', label: 'mean', stroke: COLORS[0], width: 2 },
		{ key: 'p50', label: 'p50', stroke: COLORS[2], width: 1, dash: [6, 4] },
		{ key: 'p99', label: 'p99', stroke: COLORS[3], width: 1, dash: [2, 3] },
		{ key: 'slo', label: 'SLO', stroke: COLORS[1], width: 1, dash: [8, 4] },
	];

	// The most sessions whose step met the SLO: the run's, else the steps' so far.
	function stKnee(doc) {
		if (doc.result)
			return doc.result.max_sessions_meeting_slo;
		let k = 0;
		for (const s of doc.steps)
			if (s.slo_met)
				k = Math.max(k, s.sessions);
		return k;
	}

	// The knee's label beside its line, inside the plot area (uPlot's
	// overlay): right of the line when it fits, else left of it.
	function placeKnee(u) {
		const label = $('st-knee');
		const k = state.stKnee;
		if (!label)
			return;
		label.hidden = !k;
		if (!k)
			return;
		const x = u.valToPos(k, 'x');
		const w = label.offsetWidth, width = u.over.clientWidth;
		const at = x + 4 + w <= width ? x + 4 : Math.max(0, x - 4 - w);
		label.style.left = at.toFixed(0) + 'px';
		label.style.top = '4px';
	}

	function drawKnee(u) {
		const k = state.stKnee;
		if (!k || u.data[0].length === 0)
			return;
		const x = Math.round(u.valToPos(k, 'x', true));
		const ctx = u.ctx;
		ctx.save();
		ctx.strokeStyle = '#888';
		ctx.lineWidth = 2;
		ctx.beginPath();
		ctx.moveTo(x, u.bbox.top);
		ctx.lineTo(x, u.bbox.top + u.bbox.height);
		ctx.stroke();
		ctx.restore();
		placeKnee(u);
	}

	function stChart() {
		if (state.stPlot)
			return state.stPlot;
		const box = $('st-chart');
		box.append(el('h3', 'Round trip under load (µs, log scale) against sessions'));
		const opts = {
			width: Math.min(720, Math.max(420, ($('view-session-test').clientWidth || 900) - 40)),
			height: 300,
			scales: { x: { time: false }, y: { distr: 3 } },
			axes: [{ label: 'sessions', incrs: [1, 2, 5, 10, 20, 50, 100] }, { label: 'µs' }],
			series: [{ label: 'sessions' }].concat(ST_SERIES.map((s) => ({
				label: s.label, stroke: s.stroke, width: s.width, dash: s.dash,
				points: { show: s.key === 'mean' }, spanGaps: true,
			}))),
			hooks: { draw: [drawKnee] },
		};
		state.stPlot = new uPlot(opts, [[], [], [], [], []], box);
		const label = el('span', '', null);
		label.id = 'st-knee';
		label.hidden = true;
		state.stPlot.over.append(label);
		return state.stPlot;
	}

	// A step whose client itself fell behind neither sets the knee nor counts as a miss.
	function sloCell(s) {
		const verdict = s.slo_met ? 'met' : 'missed';
		if (s.client_stalled)
			return el('td', verdict + ' (client stalled: left out)', 'text slo-stalled');
		return el('td', verdict, 'text slo-' + verdict);
	}

	function stepRow(s) {
		const l = s.latency_us;
		const tr = el('tr');
		tr.dataset.sessions = String(s.sessions);
		tr.append(numCell(s.sessions, s.sessions),
			numCell(s.offered_mbit.toFixed(2) + ' Mbit/s', s.offered_mbit),
			numCell(s.achieved_mbit.toFixed(2) + ' Mbit/s', s.achieved_mbit),
			numCell((s.loss * 100).toFixed(2) + ' %', s.loss),
			numCell(us(l.mean), l.mean), numCell(us(l.p50), l.p50), numCell(us(l.p99), l.p99),
			sloCell(s));
		return tr;
	}

	// The sessions sending now, with what each received in the last step.
	function stSessionRows(doc) {
		const last = doc.steps.length ? doc.steps[doc.steps.length - 1].session_mbit : [];
		const rows = [];
		for (let i = 0; i < doc.sessions_active; i++) {
			const tr = el('tr');
			const v = last[i];
			tr.append(numCell(i + 1, i + 1),
				numCell(v === undefined ? '–' : v.toFixed(3) + ' Mbit/s', v),
				el('td', 'sending', 'text'));
			rows.push(tr);
		}
		return rows;
	}

	function stStatus(doc) {
		const p = doc.params;
		if (!p)
			return 'no session test has run since the console started';
		const what = 'to ' + p.to + ':' + p.port + ', ' + p.rate_mbit + ' Mbit/s a session, up to ' +
			p.sessions + ' sessions, ' + p.step_s + ' s a step, SLO ' + p.slo_us + ' µs';
		if (doc.state === 'running')
			return 'running ' + what + ': ' + doc.sessions_active + ' sessions, ' + doc.phase;
		const ends = { done: 'done', stopped: 'torn down', failed: 'failed' };
		const sched = doc.result && doc.result.client_scheduling;
		return (ends[doc.state] || doc.state) + ': ' + what +
			(doc.result ? ' (' + doc.result.stop_reason + ')' : '') +
			(sched && sched.error ? '; the client ran at normal priority (' + sched.error +
				'): a stall of the console\'s host reads as latency' : '') +
			(doc.error ? ': ' + doc.error : '');
	}

	function renderSessionTest(doc) {
		state.stState = doc.state;
		const status = $('st-status');
		status.textContent = stStatus(doc);
		status.dataset.state = doc.state;
		status.dataset.steps = String(doc.steps.length);
		$('st-sessions-body').replaceChildren(...stSessionRows(doc));
		$('st-sessions').dataset.active = String(doc.sessions_active);
		$('st-steps-body').replaceChildren(...doc.steps.map(stepRow));
		const slo = doc.params ? doc.params.slo_us : null;
		const x = doc.steps.map((s) => s.sessions);
		const data = [x].concat(ST_SERIES.map((s) => doc.steps.map((st) =>
			(s.key === 'slo' ? slo : (st.latency_us[s.key] > 0 ? st.latency_us[s.key] : null)))));
		state.stKnee = stKnee(doc);
		const plot = stChart();
		const label = $('st-knee');
		const k = state.stKnee;
		const rate = doc.params ? doc.params.rate_mbit : 0;
		label.textContent = k ? 'knee: ' + k + ' sessions (' + (k * rate).toFixed(1) +
			' Mbit/s) meet the SLO' : '';
		label.dataset.sessions = String(k || 0);
		$('st-chart').dataset.points = String(x.length);
		plot.setData(data);
		$('st-start').disabled = doc.state === 'running';
		$('st-stop').disabled = doc.state !== 'running';
	}

	async function loadSessionTest() {
		try {
			renderSessionTest(await getJSON('api/session-test'));
		} catch (e) {
			$('st-status').textContent = 'session test state unavailable: ' + e.message;
		}
	}

	function message(id, text, bad) {
		$(id).textContent = text;
		$(id).className = bad ? 'error' : '';
		$(id).dataset.bad = bad ? '1' : '0';
	}
	const stMessage = (text, bad) => message('st-message', text, bad);

	// An action with the token the page was given (its form's field); the console checks it.
	async function action(path, tokenField, method, body) {
		const headers = { 'Content-Type': 'application/json' };
		const token = $(tokenField).value.trim();
		if (token)
			headers.Authorization = 'Bearer ' + token;
		const r = await fetch(path, { method, headers, cache: 'no-store',
			body: body ? JSON.stringify(body) : undefined });
		const doc = await r.json();
		if (r.status === 401)
			throw new Error('refused (401): ' + doc.error + ': enter the agents\' token');
		if (r.status === 403)
			throw new Error('refused (403): ' + doc.error);
		if (!r.ok)
			throw new Error(doc.error || ('HTTP ' + r.status));
		return doc;
	}
	const stAction = (method, body) => action('api/session-test', 'st-token', method, body);

	async function stStart(ev) {
		ev.preventDefault();
		const num = (id) => Number($(id).value);
		const body = { to: $('st-to').value.trim(), port: num('st-port'),
			rate_mbit: num('st-rate'), sessions: num('st-sessions'), step_s: num('st-step'),
			slo_us: num('st-slo') };
		try {
			renderSessionTest(await stAction('POST', body));
			stMessage('started', false);
		} catch (e) {
			stMessage('not started: ' + e.message, true);
		}
	}

	async function stStop() {
		try {
			renderSessionTest(await stAction('DELETE'));
			stMessage('tearing the sessions down', false);
		} catch (e) {
			stMessage('not torn down: ' + e.message, true);
		}
	}

	// #VIEW, #sessions?node=ID&sort=KEY&order=asc|desc (a link to one table) or
	// #resources?window=S (one of the window choices).
	function view() {
		const [v] = location.hash.slice(1).split('?');
		return VIEWS.includes(v) ? v : 'nodes';
	}

	function hashParams() {
		const q = new URLSearchParams(location.hash.split('?')[1] || '');
		const sorts = ['bytes', 'packets', 'first', 'last', 'latency'];
		if (/^[0-9]+$/.test(q.get('node') || ''))
			state.sessNode = Number(q.get('node'));
		if (sorts.includes(q.get('sort')))
			state.sort = q.get('sort');
		if (['asc', 'desc'].includes(q.get('order')))
			state.order = q.get('order');
		const w = $('window');
		if ([...w.options].some((o) => o.value === q.get('window')))
			w.value = q.get('window');
	}

	function showView() {
		const v = view();
		hashParams();
		for (const name of VIEWS) {
			$('view-' + name).classList.toggle('active', name === v);
			$('tab-' + name).classList.toggle('active', name === v);
		}
		if (v === 'sessions')
			loadSessions();
		if (v === 'migrations')
			loadMigrations();
		if (v === 'session-test')
			loadSessionTest();
		if (v === 'resources' && state.historyAt)
			loadHistory().catch((e) => setStatus('history unavailable: ' + e.message, true));
	}

	async function loadHistory() {
		renderHistory(await getJSON('api/history?window=' + $('window').value));
	}

	// The charts reload when shown, then every refresh (Prometheus: every 5 s at
	// most, it scrapes no faster), so other views never wait on its queries.
	async function refreshHistory() {
		const every = state.historySource === 'prometheus' ?
			Math.max(state.refreshMs, 5000) : state.refreshMs;
		if (view() !== 'resources' && state.historyAt)
			return;
		if (Date.now() - (state.historyAt || 0) < every)
			return;
		state.historyAt = Date.now();
		await loadHistory();
	}

	async function refresh() {
		try {
			renderNodes(await getJSON('api/nodes'));
			await refreshHistory();
			if (!state.sessLoaded || view() === 'sessions')
				await loadSessions();
			if (view() === 'migrations')
				await loadMigrations();
			if (view() === 'session-test')
				await loadSessionTest();
			setStatus('updated ' + new Date().toLocaleTimeString(), false);
		} catch (e) {
			setStatus('console unreachable: ' + e.message, true);
		}
		setTimeout(refresh, state.refreshMs);
	}

	function sortBy(key) {
		if (state.sort === key)
			state.order = state.order === 'desc' ? 'asc' : 'desc';
		else
			state.sort = key, state.order = 'desc';
		loadSessions();
	}

	function start() {
		window.addEventListener('hashchange', showView);
		$('window').addEventListener('change', () => loadHistory().catch((e) =>
			setStatus('history unavailable: ' + e.message, true)));
		$('sess-node').addEventListener('change', (e) => {
			state.sessNode = Number(e.target.value);
			loadSessions();
		});
		$('sess-limit').addEventListener('change', loadSessions);
		$('st-form').addEventListener('submit', stStart);
		$('mig-form').addEventListener('submit', migStart);
		$('st-stop').addEventListener('click', stStop);
		for (const th of document.querySelectorAll('#sessions-table th[data-sort]')) {
			th.addEventListener('click', () => sortBy(th.dataset.sort));
			th.addEventListener('keydown', (e) => {
				if (e.key === 'Enter')
					sortBy(th.dataset.sort);
			});
		}
		showView();
		refresh();
	}

	start();
})();
