// SPDX-License-Identifier: GPL-2.0-only
// Drives a real headless Chromium through its DevTools protocol, as a user
// would: node cdp.js STEPS.json OUT.json -- CHROMIUM [ARGS...]. It starts
// the browser itself with --remote-debugging-pipe (the protocol over two
// pipes: no port, no WebSocket, so Debian's Node 18 runs it). STEPS is a list of
//   {"navigate": URL}                     load a page, wait for its load event
//   {"eval": JS}                           run JS in the page (fill a form, click)
//   {"wait": JS, "timeout_s": S, "name": N} until JS is true (polled every 200 ms)
//   {"value": JS, "name": N}               JS's value (JSON) into the output
//   {"file": PATH, "timeout_s": S, "name": N} until PATH exists (the test's
//                                          world outside the page is ready)
//   {"dom": FILE}, {"screenshot": FILE}    the page's DOM, a PNG of it
// OUT gets {"values": {N: ...}, "waited": {N: seconds}, "console": [messages],
// "failed": null or what did not happen}. Exit status 0 when every step passed.
'use strict';
const fs = require('fs');

const { spawn } = require('child_process');

const sep = process.argv.indexOf('--');
const [stepsFile, outFile] = process.argv.slice(2, sep);
const browserCmd = process.argv.slice(sep + 1);
const steps = JSON.parse(fs.readFileSync(stepsFile, 'utf8'));
const out = { values: {}, waited: {}, console: [], failed: null };
let browser, session = null, nextId = 1, inbuf = Buffer.alloc(0);
const pending = new Map(), loadWaiters = [];

// One protocol message: JSON ended by a NUL byte, on the browser's fd 3.
function send(method, params = {}, toBrowser = false) {
	const id = nextId++;
	const msg = { id, method, params };
	if (session && !toBrowser)
		msg.sessionId = session;
	browser.stdio[3].write(JSON.stringify(msg) + '\0');
	return new Promise((resolve, reject) => pending.set(id, { resolve, reject, method }));
}

function onMessage(m) {
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

// The browser's fd 4: NUL-ended JSON messages, in chunks.
function onData(chunk) {
	inbuf = Buffer.concat([inbuf, chunk]);
	let end;
	while ((end = inbuf.indexOf(0)) >= 0) {
		onMessage(JSON.parse(inbuf.subarray(0, end).toString('utf8')));
		inbuf = inbuf.subarray(end + 1);
	}
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
	} else if (s.wait || s.file) {
		const t0 = Date.now(), limit = (s.timeout_s || 30) * 1000;
		while (!(s.file ? fs.existsSync(s.file) : await evaluate(s.wait))) {
			if (Date.now() - t0 > limit)
				throw new Error('waited ' + (limit / 1000) + ' s for ' + (s.name || s.wait || s.file));
			await sleep(200);
		}
		out.waited[s.name || s.wait || s.file] = (Date.now() - t0) / 1000;
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
	browser = spawn(browserCmd[0], browserCmd.slice(1).concat(['--remote-debugging-pipe']),
		{ stdio: ['ignore', 'ignore', 'inherit', 'pipe', 'pipe'] });
	browser.stdio[4].on('data', onData);
	const exited = new Promise((resolve, reject) => {
		browser.on('error', reject);
		browser.on('exit', (code) => reject(new Error('the browser exited (' + code + ')')));
	});
	const run = async () => {
		const { targetId } = await send('Target.createTarget', { url: 'about:blank' }, true);
		session = (await send('Target.attachToTarget', { targetId, flatten: true }, true)).sessionId;
		await send('Page.enable');
		await send('Runtime.enable');
		await send('Log.enable');
		for (const s of steps)
			await step(s);
	};
	await Promise.race([run(), exited]);
}

// Stopped from outside (a test's cleanup): the browser goes too.
for (const sig of ['SIGTERM', 'SIGINT'])
	process.on(sig, () => {
		if (browser && browser.exitCode === null)
			browser.kill();
		process.exit(1);
	});

main().catch((e) => {
	out.failed = e.message;
}).finally(() => {
	fs.writeFileSync(outFile, JSON.stringify(out, null, 1));
	if (browser && browser.exitCode === null)
		browser.kill();
	process.exit(out.failed ? 1 : 0);
});
