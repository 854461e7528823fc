// End-to-end checks of the scan pipeline: scale (100 000 rows), the worker thread, the CLI and the per-file cap.
import { after, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analysePoisoning } from '../../../src/datasets/poison';
import { POISON_CODES } from '../../../src/datasets/problem';
import { gaussian, mulberry32, sampleIndices } from '../../../src/math/random';
import { scanText } from '../../../src/datasets/scan';
import { scanInWorker } from '../../../src/host/datasets/scanClient';
import type { FeatureTable } from '../../../src/datasets/table';
import { runScan } from '../../../src/cli/scan';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'datasets');
const WORKER_TS = path.join(__dirname, '..', '..', '..', 'src', 'datasets', 'scanWorker.ts');
// Worker threads do not inherit tsx's loader, so a tiny CommonJS bootstrap registers it and loads the TypeScript entry.
const WORKER_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-worker-'));
const WORKER = path.join(WORKER_DIR, 'bootstrap.js');
fs.writeFileSync(WORKER, `require(${JSON.stringify(require.resolve('tsx/cjs'))});\nrequire(${JSON.stringify(WORKER_TS)});\n`);

after(() => fs.rmSync(WORKER_DIR, { recursive: true, force: true }));

describe('poisoning analysis at scale', () => {
	test('100 000 rows with 1 % planted dirty-label near duplicates: recall >= 0.95 at precision >= 0.9', () => {
		const n = 99_000;
		const d = 16;
		const classes = 10;
		const u = mulberry32(42);
		const g = gaussian(u);
		const centres = Float64Array.from({ length: classes * d }, () => 3 * g());
		const total = n + 1000;
		const features = new Float32Array(total * d);
		const labels: string[] = [];
		for (let i = 0; i < n; i++) {
			const c = i % classes;
			for (let j = 0; j < d; j++) {
				features[i * d + j] = centres[c * d + j] + g();
			}
			labels.push(String(c));
		}
		const poison = new Set<number>();
		for (const s of sampleIndices(n, 1000, u)) {
			const i = n + poison.size;
			for (let j = 0; j < d; j++) {
				features[i * d + j] = features[s * d + j] + 0.005 * g();
			}
			labels.push(String((Number(labels[s]) + 1 + Math.floor(u() * (classes - 1))) % classes));
			poison.add(i);
		}
		const table: FeatureTable = {
			rows: total, dim: d, features, valid: new Uint8Array(total).fill(1), labels,
			startLine: Int32Array.from({ length: total }, (_, i) => i + 2), endLine: Int32Array.from({ length: total }, (_, i) => i + 2),
			endColumn: new Int32Array(total).fill(10), textKey: null, labelName: 'label', hasHeader: true,
		};
		const t0 = performance.now();
		const r = analysePoisoning(table);
		const seconds = (performance.now() - t0) / 1000;
		const flagged = new Set(r.problems.filter((p) => POISON_CODES.has(p.code)).map((p) => p.line - 2));
		const tp = [...flagged].filter((i) => poison.has(i)).length;
		const precision = tp / flagged.size;
		const recall = tp / poison.size;
		console.log(`# 100k rows x 16: ${seconds.toFixed(1)} s, precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)}, radius ${r.stats.radius.toFixed(3)}`);
		assert.ok(recall >= 0.95, `recall ${recall}`);
		assert.ok(precision >= 0.9, `precision ${precision}`);
	});
});

describe('degenerate input', () => {
	test('150 000 copies of one row with two labels: every row flagged, no stack overflow, partner lists capped', () => {
		const n = 150_000;
		const line = Int32Array.from({ length: n }, (_, i) => i + 2);
		const table: FeatureTable = {
			rows: n, dim: 2, features: new Float32Array(n * 2).fill(1), valid: new Uint8Array(n).fill(1),
			labels: Array.from({ length: n }, (_, i) => String(i % 2)), startLine: line, endLine: line,
			endColumn: new Int32Array(n).fill(4), textKey: null, labelName: 'label', hasHeader: true,
		};
		const r = analysePoisoning(table);
		assert.equal(r.problems.length, n);
		assert.ok(r.problems.every((p) => p.code === 'dirty-label-duplicate' && p.related.length <= 50));
	});
});

describe('scan plumbing', () => {
	test('the worker thread gives the same findings as the in-process scan, with progress', async () => {
		const file = path.join(FIXTURES, 'clones.csv');
		const direct = scanText(fs.readFileSync(file, 'utf8'), 'clones.csv');
		const phases: string[] = [];
		const viaWorker = await scanInWorker({
			workerPath: WORKER, fileName: 'clones.csv', source: { path: file }, options: {},
			onProgress: (_f, phase) => phases.push(phase),
		});
		assert.deepEqual(viaWorker.problems, direct.problems);
		const bytes = new TextEncoder().encode(fs.readFileSync(file, 'utf8'));
		const fromBytes = await scanInWorker({ workerPath: WORKER, fileName: 'clones.csv', source: { bytes }, options: {} });
		assert.deepEqual(fromBytes.problems, direct.problems);
	});

	test('a quote-free CSV parsed by two threads gives exactly the one-thread findings', async () => {
		const u = mulberry32(21);
		const lines = ['label,a,b,c'];
		for (let i = 0; i < 3000; i++) {
			const c = i % 3;
			const row = [c, 10 * c + u(), 10 * c + u(), 10 * c + u()].map((v) => (typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : String(v)));
			if (i === 100 || i === 2500) {
				row[2] = 'oops';
			}
			if (i === 1200 || i === 2900) {
				row.push('extra');
			}
			if (i === 2700) {
				row[0] = 'cta';
			}
			lines.push(row.join(','));
		}
		lines.push(`2,${lines[20].split(',').slice(1).join(',')}`);
		lines.push(`0,${lines[2990].split(',').slice(1).join(',')}`);
		const text = `${lines.join('\r\n')}\r\n`;
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-par-'));
		try {
			const file = path.join(dir, 'p.csv');
			fs.writeFileSync(file, text);
			const serial = scanText(text, 'p.csv');
			const two = await scanInWorker({ workerPath: WORKER, fileName: 'p.csv', source: { path: file }, options: {}, parallelMinChars: 1, parallelMinCores: 1 });
			assert.equal(two.parseThreads, 2);
			assert.equal(two.rows, serial.rows);
			assert.deepEqual(two.problems, serial.problems);
			assert.deepEqual(serial.problems.map((p) => [p.line, p.code]), [
				[102, 'non-numeric'], [1202, 'ragged-row'], [2502, 'non-numeric'], [2702, 'unknown-label'], [2902, 'ragged-row'],
				[3002, 'dirty-label-duplicate'], [3003, 'dirty-label-duplicate'],
			]);
		} finally {
			fs.rmSync(dir, { recursive: true, force: true });
		}
	});

	test('aborting a worker scan rejects with AbortError', async () => {
		const ac = new AbortController();
		const p = scanInWorker({
			workerPath: WORKER, fileName: 'clones.csv', source: { path: path.join(FIXTURES, 'clones.csv') }, options: {},
			signal: ac.signal,
		});
		ac.abort();
		await assert.rejects(p, (e: Error) => e.name === 'AbortError');
	});

	test('a worker error names the file', async () => {
		await assert.rejects(scanInWorker({
			workerPath: WORKER, fileName: 'missing.csv', source: { path: path.join(FIXTURES, 'does-not-exist.csv') }, options: {},
		}), /missing\.csv: .*does-not-exist\.csv: cannot read: no such file or folder \(ENOENT\)/);
	});

	test('the per-file cap keeps maxProblems findings plus one summary', () => {
		const text = `label,a\n${Array.from({ length: 500 }, (_, i) => `${i % 2},${i},extra`).join('\n')}\n`;
		const r = scanText(text, 'many.csv', { maxProblems: 50 });
		assert.equal(r.totalProblems, 500);
		assert.equal(r.problems.length, 51);
		assert.equal(r.problems[0].code, 'problem-cap');
		assert.match(r.problems[0].message, /^450 more problem\(s\) not shown \(cap 50 per file\): ragged-row ×450$/);
	});

	test('CLI: poison-lens scan --json writes { file, rows, problems } and exits 0 without errors', async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-scan-'));
		try {
			const out = path.join(dir, 'out.json');
			const log = console.log;
			console.log = () => undefined;
			let code: number;
			try {
				code = await runScan([path.join(FIXTURES, 'clones.csv'), '--json', out]);
			} finally {
				console.log = log;
			}
			assert.equal(code, 0);
			const json = JSON.parse(fs.readFileSync(out, 'utf8')) as { file: string; rows: number; problems: { line: number; column: number; code: string; severity: string; message: string; related: number[] }[] };
			assert.equal(json.rows, 125);
			assert.deepEqual(json.problems.map((p) => [p.line, p.code, p.related]), [
				[122, 'dirty-label-near-duplicate', [10]],
				[123, 'dirty-label-duplicate', [100]],
				[124, 'near-clone-cluster', [125, 126]],
				[125, 'near-clone-cluster', [124, 126]],
				[126, 'near-clone-cluster', [124, 125]],
			]);
			assert.deepEqual(Object.keys(json.problems[0]), ['line', 'column', 'code', 'severity', 'message', 'related']);
		} finally {
			fs.rmSync(dir, { recursive: true, force: true });
		}
	});

	test('CLI: a table on stdout, exit 1 when errors exist, 2 on bad usage', async () => {
		const lines: string[] = [];
		const log = console.log;
		const err = console.error;
		console.log = (s: string) => lines.push(s);
		console.error = () => undefined;
		let code: number;
		let bad: number;
		try {
			code = await runScan([path.join(FIXTURES, 'structure.csv'), '--label-column', 'label']);
			bad = await runScan(['--nope']);
		} finally {
			console.log = log;
			console.error = err;
		}
		assert.equal(code, 1);
		assert.equal(bad, 2);
		assert.match(lines[0], /structure\.csv: 14 rows, label column 'label', 9 problem\(s\)/);
		assert.ok(lines.some((l) => /^4:1\s+error\s+ragged-row\s+row has 3 fields, but the header has 4$/.test(l)));
	});
});

describe('IDX scan (CLI only)', () => {
	/** An IDX uint8 file: magic 0x0000_08_<rank>, big-endian dimensions, then the bytes. */
	function idx(dims: number[], data: Uint8Array): Buffer {
		const head = Buffer.alloc(4 + 4 * dims.length);
		head.writeUInt32BE(0x0800 + dims.length, 0);
		dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
		return Buffer.concat([head, Buffer.from(data)]);
	}

	test('an exact copy of record 3 with a flipped label is record 41, partner 3', async () => {
		const u = mulberry32(8);
		const n = 41;
		const px = new Uint8Array(n * 16);
		const lab = new Uint8Array(n);
		for (let i = 0; i < 40; i++) {
			lab[i] = i < 20 ? 0 : 1;
			for (let j = 0; j < 16; j++) {
				px[i * 16 + j] = Math.min(255, Math.floor((lab[i] === 0 ? (j < 8 ? 200 : 20) : (j < 8 ? 20 : 200)) + 40 * u()));
			}
		}
		px.set(px.subarray(2 * 16, 3 * 16), 40 * 16);
		lab[40] = 1;
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-idx-'));
		try {
			fs.writeFileSync(path.join(dir, 'img-idx3-ubyte'), idx([n, 4, 4], px));
			fs.writeFileSync(path.join(dir, 'lab-idx1-ubyte'), idx([n], lab));
			const out = path.join(dir, 'out.json');
			const log = console.log;
			console.log = () => undefined;
			let code: number;
			try {
				code = await runScan([path.join(dir, 'img-idx3-ubyte'), '--labels', path.join(dir, 'lab-idx1-ubyte'), '--json', out]);
			} finally {
				console.log = log;
			}
			assert.equal(code, 0);
			const json = JSON.parse(fs.readFileSync(out, 'utf8')) as { rows: number; problems: { line: number; code: string; related: number[] }[] };
			assert.equal(json.rows, 41);
			assert.deepEqual(json.problems.map((p) => [p.line, p.code, p.related]), [[41, 'dirty-label-duplicate', [3]]]);
		} finally {
			fs.rmSync(dir, { recursive: true, force: true });
		}
	});
});
