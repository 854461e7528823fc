import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReportHtml, REPORT_CSP } from '../../../src/report/html';
import { escapeXml, lineChartSvg, niceTicks } from '../../../src/report/svgChart';
import type { RunView } from '../../../src/protocol/webview';

describe('report building blocks', () => {
	test('ticks are round and cover the range', () => {
		assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
		assert.deepEqual(niceTicks(0, 75, 6), [0, 20, 40, 60]);
	});

	test('an SVG chart escapes text and draws one path per non-empty series', () => {
		const svg = lineChartSvg({ title: 'a < b & "c"', xLabel: 'step', yLabel: 'v', series: [{ name: 's', color: '#f00', points: [{ x: 0, y: 1 }, { x: 1, y: 2 }] }, { name: 'empty', color: '#00f', points: [] }] });
		assert.match(svg, /a &lt; b &amp; &quot;c&quot;/);
		assert.equal((svg.match(/<path /g) ?? []).length, 1);
		assert.match(lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', series: [] }), /no data/);
		assert.equal(escapeXml(`<'>`), '&lt;&#39;&gt;');
	});

	test('the page forbids every fetch and escapes the run name', () => {
		const view: RunView = {
			info: { id: 'r', name: '<script>x</script>', dir: '/r', createdAt: '', status: 'finished', attackDeclared: false, theta: null, kappa: null, targetClass: null, trigger: null, stepsPerEpoch: null },
			metrics: [],
			checkpoints: [],
			summary: null,
			images: {},
			runError: null,
			problems: [],
			revision: 0,
		};
		const html = buildReportHtml({ view, manifest: null, problems: ['events.jsonl:3: bad line'], suspects: [], suspectCount: 0, datasetFile: null, datasetLinesKnown: false, toolVersion: '0.1.0', generatedAt: '2026-01-01T00:00:00Z' });
		assert.ok(html.includes(`content="${REPORT_CSP}"`));
		assert.equal(REPORT_CSP.includes("default-src 'none'"), true);
		assert.doesNotMatch(html, /<script/);
		assert.match(html, /&lt;script&gt;x&lt;\/script&gt;/);
		assert.match(html, /Not analysed yet/);
		assert.match(html, /events\.jsonl:3: bad line/);
	});
});
