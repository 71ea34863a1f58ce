// SPDX-License-Identifier: GPL-2.0-only
// Drives a real headless Chromium through its DevTools protocol, as a user
// would: node --experimental-websocket cdp.js PORT STEPS.json OUT.json.
// PORT is the browser's --remote-debugging-port; STEPS a list of
//   {"navigate": URL}                     load a page, wait for its load event
//   {"eval": JS}                           run JS in the page (fill a form, click)
//   {"wait": JS, "timeout_s": S, "name": N} until JS is true (polled every 200 ms)
//   {"value": JS, "name": N}               JS's value (JSON) into the output
//   {"dom": FILE}, {"screenshot": FILE}    the page's DOM, a PNG of it
// OUT gets {"values": {N: ...}, "waited": {N: seconds}, "console": [messages],
// "failed": null or what did not happen}. Exit status 0 when every step passed.
'use strict';
const fs = require('fs');

const [port, stepsFile, outFile] = process.argv.slice(2);
const steps = JSON.parse(fs.readFileSync(stepsFile, 'utf8'));
const out = { values: {}, waited: {}, console: [], failed: null };
let ws, nextId = 1;
const pending = new Map(), loadWaiters = [];

function send(method, params = {}) {
	const id = nextId++;
	ws.send(JSON.stringify({ id, method, params }));
	return new Promise((resolve, reject) => pending.set(id, { resolve, reject, method }));
}

function onMessage(ev) {
	const m = JSON.parse(ev.data);
	if (m.id && pending.has(m.id)) {
		const p = pending.get(m.id);
		pending.delete(m.id);
		if (m.error)
			p.reject(new Error(p.method + ': ' + m.error.message));
		else
			p.resolve(m.result);
		return;
	}
	if (m.method === 'Runtime.consoleAPICalled')
		out.console.push(m.params.type + ': ' + m.params.args.map((a) =>
			a.value !== undefined ? String(a.value) : a.description || a.type).join(' '));
	else if (m.method === 'Runtime.exceptionThrown')
		out.console.push('exception: ' + (m.params.exceptionDetails.exception || {}).description);
	else if (m.method === 'Log.entryAdded')
		out.console.push(m.params.entry.level + ': ' + m.params.entry.text);
	else if (m.method === 'Page.loadEventFired')
		loadWaiters.splice(0).forEach((f) => f());
}

async function evaluate(expr) {
	const r = await send('Runtime.evaluate', { expression: expr, awaitPromise: true,
		returnByValue: true });
	if (r.exceptionDetails)
		throw new Error('page threw: ' + (r.exceptionDetails.exception || {}).description);
	return r.result.value;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function step(s) {
	if (s.navigate) {
		const loaded = new Promise((r) => loadWaiters.push(r));
		await send('Page.navigate', { url: s.navigate });
		await loaded;
	} else if (s.eval) {
		await evaluate(s.eval);
	} else if (s.wait) {
		const t0 = Date.now(), limit = (s.timeout_s || 30) * 1000;
		while (!(await evaluate(s.wait))) {
			if (Date.now() - t0 > limit)
				throw new Error('waited ' + (limit / 1000) + ' s for ' + (s.name || s.wait));
			await sleep(200);
		}
		out.waited[s.name || s.wait] = (Date.now() - t0) / 1000;
	} else if (s.value) {
		out.values[s.name] = await evaluate(s.value);
	} else if (s.dom) {
		fs.writeFileSync(s.dom, await evaluate('document.documentElement.outerHTML'));
	} else if (s.screenshot) {
		const r = await send('Page.captureScreenshot', { format: 'png' });
		fs.writeFileSync(s.screenshot, Buffer.from(r.data, 'base64'));
	}
}

async function main() {
	let targets;
	for (let i = 0; i < 100 && !targets; i++) {
		try {
			const r = await fetch('http://127.0.0.1:' + port + '/json/list');
			targets = (await r.json()).filter((t) => t.type === 'page');
			if (!targets.length)
				targets = null;
		} catch (e) {
			await sleep(200);
		}
	}
	if (!targets)
		throw new Error('no browser page on port ' + port);
	ws = new WebSocket(targets[0].webSocketDebuggerUrl);
	ws.onmessage = onMessage;
	await new Promise((resolve, reject) => {
		ws.onopen = resolve;
		ws.onerror = () => reject(new Error('cannot reach the page'));
	});
	await send('Page.enable');
	await send('Runtime.enable');
	await send('Log.enable');
	for (const s of steps)
		await step(s);
}

main().catch((e) => {
	out.failed = e.message;
}).finally(() => {
	fs.writeFileSync(outFile, JSON.stringify(out, null, 1));
	process.exit(out.failed ? 1 : 0);
});
