// SPDX-License-Identifier: GPL-2.0-only
// A CloudEvents sink for the Detector's tests, built on the official
// CloudEvents JavaScript SDK (npm package "cloudevents"): the SDK parses
// and validates each request (HTTP.toEvent, CloudEvents 1.0 rules), and
// this file adds what docs/events.md promises: the io.edgeshift.* type,
// the required attributes and the data schema of each type. Each request
// is one JSON line in --out (appended synchronously, so a killed receiver
// keeps what it acknowledged). A request that fails validation is answered
// 400 and recorded with "invalid".
//
//   node ce_receiver.js --port P --out FILE [--mode binary|structured|any]
//        [--statuses 404,409,...] [--always CODE] [--reply-bytes N]
// --statuses: the answers to the first requests, in order (then 200);
// --always: every answer (a broken broker, a dead-letter test);
// --reply-bytes: a body of N bytes with every answer (a reply event).
'use strict';
const http = require('http');
const fs = require('fs');
const { HTTP } = require('cloudevents');

const args = {};
for (let i = 2; i < process.argv.length; i += 2)
	args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const port = Number(args.port);
const out = args.out;
const want = args.mode || 'any';
const seq = args.statuses ? args.statuses.split(',').map(Number) : [];
const always = args.always ? Number(args.always) : 0;
const reply = args['reply-bytes'] ? 'r'.repeat(Number(args['reply-bytes'])) : '';

const S = 'string', N = 'number';
const session = { protocol: S, client: S, service: S, interface: S, first_seen_ns: N };
const migration = { role: S, migration: S, container: S, event: S, ts_ns: N };
const schemas = {
	'io.edgeshift.user.attached': { user: S, service: S, protocol: S, interface: S,
					first_packet_ns: N },
	'io.edgeshift.session.opened': session,
	'io.edgeshift.session.closed': Object.assign({ last_seen_ns: N, duration_ms: N,
		packets_in: N, packets_out: N, bytes_in: N, bytes_out: N, reason: S }, session),
	'io.edgeshift.handoff.seen': { role: S, event: S, session: S, ts_ns: N },
	'io.edgeshift.migration.started': migration,
	'io.edgeshift.migration.checkpointed': migration,
	'io.edgeshift.migration.restored': migration,
	'io.edgeshift.migration.cutover': migration,
	'io.edgeshift.migration.failed': Object.assign({ reason: S }, migration),
	'io.edgeshift.utilisation.crossed': { interface: S, direction: S, utilisation: N,
					      threshold: N },
	'io.edgeshift.latency.crossed': { kind: S, direction: S, p99_ms: N, slo_ms: N, samples: N },
};

function modeOf(headers) {
	const ct = headers['content-type'] || '';
	if (ct.startsWith('application/cloudevents+json'))
		return 'structured';
	return headers['ce-specversion'] ? 'binary' : 'none';
}

// The checks the SDK does not make: ours, from docs/events.md.
function check(ev, mode) {
	if (want !== 'any' && mode !== want)
		return `content mode ${mode}, expected ${want}`;
	const schema = schemas[ev.type];
	if (!schema)
		return `unknown type ${ev.type}`;
	for (const a of ['id', 'source', 'subject', 'time', 'datacontenttype'])
		if (typeof ev[a] !== 'string' || !ev[a])
			return `attribute ${a} missing`;
	if (ev.specversion !== '1.0')
		return `specversion ${ev.specversion}`;
	if (!/^\/edgeshift\/[^/]+/.test(ev.source))
		return `source ${ev.source} not /edgeshift/NODE[/...]`;
	if (isNaN(Date.parse(ev.time)) || !/Z$/.test(ev.time))
		return `time ${ev.time} not RFC 3339 UTC`;
	if (ev.datacontenttype !== 'application/json')
		return `datacontenttype ${ev.datacontenttype}`;
	const d = typeof ev.data === 'string' ? JSON.parse(ev.data) : ev.data;
	if (!d || typeof d !== 'object')
		return 'data is not a JSON object';
	for (const [k, t] of Object.entries(schema))
		if (typeof d[k] !== t)
			return `data.${k} is ${typeof d[k]}, expected ${t}`;
	return null;
}

const core = new Set(['specversion', 'id', 'source', 'type', 'subject', 'time',
			'datacontenttype', 'dataschema', 'data', 'data_base64']);
let n = 0;
const server = http.createServer((req, res) => {
	const chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', () => {
		const body = Buffer.concat(chunks).toString('utf8');
		const mode = modeOf(req.headers);
		const rec = { n: n, recv_ns: Date.now() * 1e6, mode: mode };
		let status = always || (n < seq.length ? seq[n] : 200);
		n++;
		try {
			const ev = HTTP.toEvent({ headers: req.headers, body: body });
			const bad = check(ev, mode);
			Object.assign(rec, { id: ev.id, source: ev.source, type: ev.type,
					     subject: ev.subject, time: ev.time, data: ev.data });
			for (const [k, v] of Object.entries(ev))
				if (!core.has(k) && typeof v === 'string')
					rec['ext_' + k] = v;
			if (bad) {
				rec.invalid = bad;
				status = 400;
			}
		} catch (e) {
			rec.invalid = 'SDK: ' + (e.message || String(e)) +
				(e.errors ? ' ' + JSON.stringify(e.errors) : '');
			status = 400;
		}
		rec.status = status;
		fs.appendFileSync(out, JSON.stringify(rec) + '\n');
		res.writeHead(status);
		res.end(reply);
	});
});
server.keepAliveTimeout = 60000;
server.listen(port, '127.0.0.1', () => {
	fs.appendFileSync(out + '.ready', 'ready\n');
});
