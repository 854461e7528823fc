import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dashboardCsp, makeNonce, renderDashboardHtml } from '../../../src/host/dashboard/html';
import { parseWebviewMessage } from '../../../src/protocol/webview';

describe('parseWebviewMessage (untrusted input from the webview)', () => {
	test('accepts each well-formed message', () => {
		assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready', payload: {} });
		assert.deepEqual(parseWebviewMessage({ type: 'exportCsv', payload: { chart: 'lag', runIds: ['a'] } }), { type: 'exportCsv', payload: { chart: 'lag', runIds: ['a'] } });
		assert.deepEqual(parseWebviewMessage({ type: 'exportPng', payload: { chart: 'training', dataUrl: 'data:image/png;base64,AAAA' } }), { type: 'exportPng', payload: { chart: 'training', dataUrl: 'data:image/png;base64,AAAA' } });
		assert.deepEqual(parseWebviewMessage({ type: 'selectRun', payload: { runId: 'r' } }), { type: 'selectRun', payload: { runId: 'r' } });
		assert.deepEqual(parseWebviewMessage({ type: 'log', payload: { level: 'warn', message: 'x' } }), { type: 'log', payload: { level: 'warn', message: 'x' } });
	});

	test('rejects malformed messages with a reason', () => {
		const bad: unknown[] = [
			null,
			'ready',
			{ type: 42 },
			{ type: 'nope' },
			{ type: 'exportPng', payload: { chart: 'training', dataUrl: 'javascript:alert(1)' } },
			{ type: 'exportPng', payload: { chart: 'pie', dataUrl: 'data:image/png;base64,AA' } },
			{ type: 'exportCsv', payload: { chart: 'lag', runIds: [1] } },
			{ type: 'selectRun', payload: {} },
			{ type: 'log', payload: { level: 'fatal', message: 'x' } },
		];
		for (const m of bad) {
			assert.equal(typeof parseWebviewMessage(m), 'string', JSON.stringify(m));
		}
	});
});

describe('dashboard HTML and CSP', () => {
	const html = renderDashboardHtml({ cspSource: 'https://webview.test', nonce: 'abc+/=', scriptUri: 'https://webview.test/dist/webview.js', styleUri: 'https://webview.test/media/dashboard.css' });

	test('strict policy: nothing by default, no unsafe-inline or eval, scripts only by nonce', () => {
		const csp = dashboardCsp('https://webview.test', 'N');
		assert.match(csp, /^default-src 'none';/);
		assert.match(csp, /script-src 'nonce-N'/);
		assert.match(csp, /style-src https:\/\/webview\.test(;|$)/);
		assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
	});

	test('the page carries the policy, the nonce on its only script, and no inline style', () => {
		assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
		const scripts = html.match(/<script\b[^>]*>/g) ?? [];
		assert.equal(scripts.length, 1);
		assert.match(scripts[0], /nonce="abc\+\/="/);
		assert.doesNotMatch(html, /\sstyle=/);
		assert.doesNotMatch(html, /<style/);
	});

	test('nonces come from crypto: 24 base64 characters, never repeated', () => {
		const seen = new Set<string>();
		for (let i = 0; i < 200; i++) {
			const n = makeNonce();
			assert.match(n, /^[A-Za-z0-9+/]{24}$/);
			seen.add(n);
		}
		assert.equal(seen.size, 200);
	});
});
