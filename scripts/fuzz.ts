/**
 * `npm run fuzz`: a longer, seeded fault-injection run over generated inputs, printing one summary row per
 * case: tried, crashes, hangs, memory-budget breaches, lost records, unclear messages.
 *
 *   text     mutated CSV/TSV/JSONL files (byte flips, cuts, quotes, line breaks, NULs, BOMs, invalid UTF-8,
 *            giant lines), scanned exactly as `poison-lens scan` reads them (readRegularFile + scanBytes)
 *   special  FIFOs, devices, sockets, folders, symlink loops and dangling links as dataset files and image paths,
 *            images whose headers declare huge sizes
 *   idx      IDX image/label pairs: cut, mismatched, gzip bombs, NaN/Inf floats, FIFOs
 *   run      run-folder faults, each a real `node dist/cli.js analyse` child process
 *
 * Crash: an exception that is not the reader's own named error, or a child that dies by a signal or exits other
 * than 0/1/2. Hang: a file or run over its time limit. Memory: peak RSS over 2 × input + 300 MB. Lost records:
 * a non-blank line that is neither a row, the header nor inside a reported problem (text), or an analysis record
 * that was there before and is gone after (run). Unclear message: raw control characters, a stack trace,
 * "undefined"/"[object Object]", or a position outside the file.
 *
 * Usage: node --import tsx scripts/fuzz.ts [--seed N] [--text N] [--only text,special,idx,run]
 * Workers are child processes (`--worker`) fed files in batches; their peak RSS comes from process.resourceUsage().
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { PNG } from 'pngjs';
import { IdxError } from '../src/datasets/idx';
import { scanIdx } from '../src/datasets/idxScan';
import { scanBytes } from '../src/datasets/scan';
import { FileFault, readRegularFile } from '../src/protocol/safeFile';

const root = path.resolve(__dirname, '..');
const BUDGET_BASE = 300 * 1024 * 1024;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

interface Outcome {
	file: string;
	crash?: string;
	lost?: string;
	unclear?: string;
	ms: number;
	rss: number;
	size: number;
}

function unclear(message: string): string | null {
	if (message.trim() === '') {
		return 'empty message';
	}
	if (CONTROL.test(message) || message.includes('\n')) {
		return `raw control character: ${JSON.stringify(message.slice(0, 80))}`;
	}
	if (/\n\s+at |\bat .*\(.*:\d+:\d+\)/.test(message)) {
		return 'stack trace';
	}
	if (/\bundefined\b|\[object Object\]/.test(message)) {
		return `unclear: ${message.slice(0, 80)}`;
	}
	return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Worker: scans the files it is sent, one JSON line per file on stdout.
// ---------------------------------------------------------------------------------------------------------------

async function worker(): Promise<void> {
	let input = '';
	process.stdin.on('data', (d: Buffer) => (input += d.toString()));
	await new Promise((r) => process.stdin.on('end', r));
	const jobs = input.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as { file: string; labels?: string; workspace: string });
	for (const job of jobs) {
		const t0 = performance.now();
		process.stdout.write(`START ${JSON.stringify(job.file)}\n`);
		const out: Outcome = { file: job.file, ms: 0, rss: 0, size: 0 };
		try {
			out.size = fs.statSync(job.file).isFile() ? fs.statSync(job.file).size : 0;
		} catch {
			out.size = 0;
		}
		try {
			if (job.labels !== undefined) {
				const r = scanIdx(job.file, job.labels, { structureOnly: false });
				for (const p of r.problems) {
					const u = unclear(p.message);
					if (u !== null) {
						out.unclear = u;
					}
				}
			} else {
				const bytes = await readRegularFile(job.file);
				const r = scanBytes(bytes, path.basename(job.file), { baseDir: path.dirname(job.file), imageRoot: job.workspace, maxProblems: 1_000_000 });
				const text = bytes.toString('utf8');
				const lines = text.split(/\r\n|\r|\n/);
				const covered = new Uint8Array(lines.length + 2);
				for (const p of r.problems) {
					const u = unclear(p.message) ?? (p.line < 1 || p.line > lines.length ? `line ${p.line} outside 1..${lines.length}` : null);
					if (u !== null) {
						out.unclear = u;
					}
					const end = p.endLine ?? p.line;
					for (let l = p.line; l <= Math.min(end, lines.length); l++) {
						covered[l] = 1;
					}
					if (p.code === 'encoding' && p.line === 1 && /byte order mark/.test(p.message)) {
						covered.fill(1);
					}
				}
				const spans = r.rowSpans;
				if (spans !== undefined) {
					for (let i = 0; i < spans.startLine.length; i++) {
						for (let l = spans.startLine[i]; l <= spans.endLine[i] && l < covered.length; l++) {
							covered[l] = 1;
						}
					}
				}
				if (r.hasHeader) {
					covered[1] = 1;
				}
				// The header may be preceded by blank lines: mark the first non-blank line too when a header was found.
				const firstNonBlank = lines.findIndex((l) => l.trim() !== '');
				if (r.hasHeader && firstNonBlank >= 0) {
					covered[firstNonBlank + 1] = 1;
				}
				const lost = lines.findIndex((l, i) => l.trim() !== '' && l.replace(/^\uFEFF/, '').trim() !== '' && covered[i + 1] === 0);
				if (lost >= 0) {
					out.lost = `line ${lost + 1} is neither a row nor reported: ${JSON.stringify(lines[lost].slice(0, 60))}`;
				}
			}
		} catch (e) {
			const expected = e instanceof FileFault || e instanceof IdxError || (e instanceof Error && /labels do not match/.test(e.message));
			if (expected) {
				const u = unclear(e.message);
				if (u !== null) {
					out.unclear = u;
				}
			} else {
				out.crash = e instanceof Error ? `${e.name}: ${e.message.slice(0, 120)}` : String(e);
			}
		}
		out.ms = performance.now() - t0;
		out.rss = process.memoryUsage().rss;
		process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
	}
	process.stderr.write(`MAXRSS ${process.resourceUsage().maxRSS}\n`);
}

// ---------------------------------------------------------------------------------------------------------------
// Generators (seeded).
// ---------------------------------------------------------------------------------------------------------------

function rng(seed: number): () => number {
	let s = seed >>> 0;
	return () => {
		s = (s + 0x6d2b79f5) >>> 0;
		let t = s;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function baseCsv(r: () => number, delim: string): string {
	const cols = 2 + Math.floor(r() * 5);
	const rows = 5 + Math.floor(r() * 60);
	const head = [...Array.from({ length: cols }, (_, j) => `f${j}`), 'label'].join(delim);
	const body = Array.from({ length: rows }, () => [...Array.from({ length: cols }, () => (r() * 10).toFixed(2)), r() < 0.5 ? 'cat' : 'dog'].join(delim));
	return [head, ...body].join('\n') + '\n';
}

function baseJsonl(r: () => number): string {
	const rows = 5 + Math.floor(r() * 60);
	return Array.from({ length: rows }, () => JSON.stringify({ x: +(r() * 10).toFixed(2), y: +(r() * 10).toFixed(2), label: r() < 0.5 ? 'a' : 'b' })).join('\n') + '\n';
}

const INSERTS = ['"', '""', ',', '\t', '\n', '\r', '\r\n', '\u0000', '{', '}', '[', ']', ':', 'NaN', 'Infinity', '-', 'e9999', '\u001b[2J', '\u2028', '😀', ' '];

function mutate(r: () => number, text: string): Buffer {
	let b = Buffer.from(text, 'utf8');
	const n = 1 + Math.floor(r() * 4);
	for (let k = 0; k < n; k++) {
		const op = Math.floor(r() * 9);
		const at = Math.floor(r() * Math.max(1, b.length));
		switch (op) {
			case 0: // byte flip
				if (b.length > 0) {
					b[at] = Math.floor(r() * 256);
				}
				break;
			case 1: // cut
				b = b.subarray(0, at);
				break;
			case 2: // insert a token
				b = Buffer.concat([b.subarray(0, at), Buffer.from(INSERTS[Math.floor(r() * INSERTS.length)]), b.subarray(at)]);
				break;
			case 3: // delete a span
				b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + Math.floor(r() * 20)))]);
				break;
			case 4: // duplicate a span
				b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + 40), b.subarray(at)]);
				break;
			case 5: // invalid UTF-8
				b = Buffer.concat([b.subarray(0, at), Buffer.from([[0xc3, 0x28], [0xff], [0xe2, 0x82], [0xf0, 0x28, 0x8c, 0xbc], [0xed, 0xa0, 0x80]][Math.floor(r() * 5)]), b.subarray(at)]);
				break;
			case 6: // a BOM
				b = Buffer.concat([Buffer.from([[0xef, 0xbb, 0xbf], [0xff, 0xfe], [0xfe, 0xff], [0xff, 0xfe, 0, 0]][Math.floor(r() * 4)]), b]);
				break;
			case 7: // a long line (rare giant one)
				b = Buffer.concat([b.subarray(0, at), Buffer.from((r() < 0.1 ? '9,' : '1').repeat(r() < 0.05 ? 700_000 : 2000)), b.subarray(at)]);
				break;
			default: // CRLF / CR line ends
				b = Buffer.from(b.toString('latin1').replace(/\n/g, r() < 0.5 ? '\r\n' : '\r'), 'latin1');
		}
	}
	return b;
}

function png(w: number, h: number): Buffer {
	const p = new PNG({ width: w, height: h });
	p.data.fill(128);
	return PNG.sync.write(p);
}

function idx(type: number, dims: number[], payload: Buffer): Buffer {
	const head = Buffer.alloc(4 + 4 * dims.length);
	head[2] = type;
	head[3] = dims.length;
	dims.forEach((d, i) => head.writeUInt32BE(d >>> 0, 4 + 4 * i));
	return Buffer.concat([head, payload]);
}

interface Job {
	readonly case: string;
	readonly file: string;
	readonly labels?: string;
	readonly workspace: string;
}

function makeTextJobs(dir: string, seed: number, count: number): Job[] {
	const r = rng(seed);
	const jobs: Job[] = [];
	for (let i = 0; i < count; i++) {
		const kind = i % 3;
		const ext = ['csv', 'tsv', 'jsonl'][kind];
		const base = kind === 2 ? baseJsonl(r) : baseCsv(r, kind === 0 ? ',' : '\t');
		const file = path.join(dir, `m${i}.${ext}`);
		fs.writeFileSync(file, mutate(r, base));
		jobs.push({ case: `mutated ${ext.toUpperCase()}`, file, workspace: dir });
	}
	return jobs;
}

async function makeSpecialJobs(dir: string): Promise<{ jobs: Job[]; servers: net.Server[] }> {
	const jobs: Job[] = [];
	const servers: net.Server[] = [];
	const ws = path.join(dir, 'ws');
	const data = path.join(ws, 'data');
	fs.mkdirSync(path.join(data, 'img'), { recursive: true });
	fs.writeFileSync(path.join(dir, 'outside.png'), png(4, 4));
	for (let i = 0; i < 4; i++) {
		fs.writeFileSync(path.join(data, 'img', `ok${i}.png`), png(8, 8));
	}
	let n = 0;
	const special = (name: string, make: (p: string) => void | Promise<void>): Promise<void> => Promise.resolve(make(path.join(data, name)));
	const exts = ['csv', 'tsv', 'jsonl'];
	for (const ext of exts) {
		await special(`fifo.${ext}`, (p) => void execFileSync('mkfifo', [p]));
		await special(`zero.${ext}`, (p) => fs.symlinkSync('/dev/zero', p));
		await special(`null.${ext}`, (p) => fs.symlinkSync('/dev/null', p));
		await special(`urandom.${ext}`, (p) => fs.symlinkSync('/dev/urandom', p));
		await special(`dir.${ext}`, (p) => fs.mkdirSync(p));
		await special(`loop.${ext}`, (p) => fs.symlinkSync(p, p));
		await special(`dangling.${ext}`, (p) => fs.symlinkSync(path.join(data, 'nowhere'), p));
		await special(`sock.${ext}`, (p) => new Promise<void>((resolve) => {
			const s = net.createServer();
			servers.push(s);
			s.listen(p, () => resolve());
		}));
		for (const name of ['fifo', 'zero', 'null', 'urandom', 'dir', 'loop', 'dangling', 'sock']) {
			jobs.push({ case: 'special dataset files', file: path.join(data, `${name}.${ext}`), workspace: ws });
			n++;
		}
	}
	// Image-path datasets naming special files, huge-declared images, paths out of the workspace.
	execFileSync('mkfifo', [path.join(data, 'img', 'fifo.png')]);
	fs.symlinkSync('/dev/zero', path.join(data, 'img', 'zero.png'));
	fs.symlinkSync(path.join(dir, 'outside.png'), path.join(data, 'img', 'out.png'));
	const huge = Buffer.from(png(4, 4));
	huge.writeUInt32BE(30000, 16);
	huge.writeUInt32BE(30000, 20);
	fs.writeFileSync(path.join(data, 'img', 'huge.png'), huge);
	fs.writeFileSync(path.join(data, 'img', 'notimage.png'), 'hello');
	fs.mkdirSync(path.join(data, 'img', 'dir.png'));
	const targets = ['img/fifo.png', 'img/zero.png', 'img/out.png', 'img/huge.png', 'img/notimage.png', 'img/dir.png', '../../outside.png', path.join(dir, 'outside.png'), '/dev/zero', '/etc/passwd.png', 'img/none.png'];
	for (let i = 0; i < targets.length; i++) {
		for (const ext of ['csv', 'jsonl']) {
			const rows = [...Array.from({ length: 4 }, (_, k) => [`img/ok${k}.png`, k % 2 ? 'a' : 'b']), [targets[i], 'a']];
			const text = ext === 'csv' ? ['image,label', ...rows.map((x) => x.join(','))].join('\n') : rows.map(([image, label]) => JSON.stringify({ image, label })).join('\n');
			const file = path.join(data, `images${i}.${ext}`);
			fs.writeFileSync(file, text);
			jobs.push({ case: 'image paths (special, huge, outside)', file, workspace: ws });
		}
	}
	void n;
	return { jobs, servers };
}

function makeIdxJobs(dir: string, seed: number, count: number): Job[] {
	const r = rng(seed);
	const jobs: Job[] = [];
	for (let i = 0; i < count; i++) {
		const n = 4 + Math.floor(r() * 20);
		const float = r() < 0.3;
		let payload: Buffer;
		if (float) {
			payload = Buffer.alloc(4 * n * 16);
			for (let k = 0; k < n * 16; k++) {
				payload.writeFloatBE(r(), 4 * k);
			}
			if (r() < 0.5) {
				payload.writeFloatBE([NaN, Infinity, -Infinity][Math.floor(r() * 3)], 4 * Math.floor(r() * n * 16));
			}
		} else {
			payload = Buffer.from(Array.from({ length: n * 16 }, () => Math.floor(r() * 256)));
		}
		let images = idx(float ? 0x0d : 0x08, [n, 4, 4], payload);
		let labels = idx(0x08, [n], Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 3))));
		const fault = Math.floor(r() * 8);
		switch (fault) {
			case 0:
				images = images.subarray(0, Math.floor(r() * images.length));
				break;
			case 1:
				labels = idx(0x08, [n + 1], Buffer.alloc(n + 1));
				break;
			case 2:
				images = zlib.gzipSync(idx(0x08, [n, 4, 4], Buffer.alloc(n * 16 + 32 * 1024 * 1024)));
				break;
			case 3:
				images = zlib.gzipSync(idx(0x08, [0xffffffff, 0xffff, 0xff], Buffer.alloc(64)));
				break;
			case 4:
				images[Math.floor(r() * images.length)] = Math.floor(r() * 256);
				break;
			case 5:
				images = zlib.gzipSync(images).subarray(0, 20 + Math.floor(r() * 20));
				break;
			default:
				break;
		}
		const imgFile = path.join(dir, `i${i}-idx3-ubyte${fault === 2 || fault === 3 || fault === 5 ? '.gz' : ''}`);
		const lblFile = path.join(dir, `i${i}-idx1-ubyte`);
		if (fault === 6) {
			execFileSync('mkfifo', [imgFile]);
		} else {
			fs.writeFileSync(imgFile, images);
		}
		if (fault === 7) {
			fs.symlinkSync('/dev/zero', lblFile);
		} else {
			fs.writeFileSync(lblFile, labels);
		}
		jobs.push({ case: 'IDX pairs', file: imgFile, labels: lblFile, workspace: dir });
	}
	return jobs;
}

// ---------------------------------------------------------------------------------------------------------------
// Driver.
// ---------------------------------------------------------------------------------------------------------------

interface Row {
	tried: number;
	crashes: number;
	hangs: number;
	memory: number;
	lost: number;
	unclear: number;
	examples: string[];
}

const table = new Map<string, Row>();

function row(name: string): Row {
	let r = table.get(name);
	if (r === undefined) {
		r = { tried: 0, crashes: 0, hangs: 0, memory: 0, lost: 0, unclear: 0, examples: [] };
		table.set(name, r);
	}
	return r;
}

function note(r: Row, what: string): void {
	if (r.examples.length < 3) {
		r.examples.push(what);
	}
}

/** Runs jobs in worker batches; a job over `perFileMs` is a hang (its worker is killed, the batch goes on). */
async function runJobs(jobs: Job[], perFileMs: number, batch = 200): Promise<void> {
	let i = 0;
	while (i < jobs.length) {
		const slice = jobs.slice(i, i + batch);
		const done = await runBatch(slice, perFileMs);
		i += Math.max(1, done);
	}
}

function runBatch(jobs: Job[], perFileMs: number): Promise<number> {
	return new Promise((resolve) => {
		const child = spawn(process.execPath, ['--import', 'tsx', __filename, '--worker'], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
		let out = '';
		let err = '';
		let finished = 0;
		let current: string | null = null;
		let timer: NodeJS.Timeout | undefined;
		const arm = (): void => {
			clearTimeout(timer);
			timer = setTimeout(() => {
				child.kill('SIGKILL');
			}, perFileMs + (finished === 0 ? 20_000 : 0));
		};
		arm();
		child.stdout.on('data', (d: Buffer) => {
			out += d.toString();
			let nl: number;
			while ((nl = out.indexOf('\n')) >= 0) {
				const line = out.slice(0, nl);
				out = out.slice(nl + 1);
				if (line.startsWith('START ')) {
					current = JSON.parse(line.slice(6)) as string;
					arm();
				} else if (line.startsWith('RESULT ')) {
					const o = JSON.parse(line.slice(7)) as Outcome;
					const job = jobs[finished];
					const r = row(job.case);
					r.tried++;
					if (o.crash !== undefined) {
						r.crashes++;
						note(r, `${path.basename(o.file)}: crash ${o.crash}`);
					}
					if (o.lost !== undefined) {
						r.lost++;
						note(r, `${path.basename(o.file)}: ${o.lost}`);
					}
					if (o.unclear !== undefined) {
						r.unclear++;
						note(r, `${path.basename(o.file)}: ${o.unclear}`);
					}
					if (o.rss > 2 * o.size + BUDGET_BASE) {
						r.memory++;
						note(r, `${path.basename(o.file)}: RSS ${(o.rss / 2 ** 20).toFixed(0)} MB for ${o.size} bytes`);
					}
					finished++;
					current = null;
				}
			}
		});
		child.stderr.on('data', (d: Buffer) => (err += d.toString()));
		child.on('exit', (_code, signal) => {
			clearTimeout(timer);
			if (finished < jobs.length) {
				const job = jobs[finished];
				const r = row(job.case);
				r.tried++;
				if (signal === 'SIGKILL' && current !== null) {
					r.hangs++;
					note(r, `${path.basename(job.file)}: over ${perFileMs} ms`);
				} else {
					r.crashes++;
					note(r, `${path.basename(job.file)}: worker died (${signal ?? 'exit'}): ${err.slice(-300)}`);
				}
				finished++;
			}
			const m = /MAXRSS (\d+)/.exec(err);
			if (m !== null) {
				peakWorkerRss = Math.max(peakWorkerRss, Number(m[1]) * 1024);
			}
			resolve(finished);
		});
		child.stdin.end(jobs.map((j) => JSON.stringify({ file: j.file, labels: j.labels, workspace: j.workspace })).join('\n'));
	});
}

let peakWorkerRss = 0;

// Run-folder faults: each a real `analyse` child process on a copy of a small real run.
interface RunFault {
	readonly name: string;
	readonly apply: (dir: string) => void;
	/** Steps whose records must exist after the run (lost records otherwise). */
	readonly expectRecords?: number[];
}

function runFaults(seed: number): RunFault[] {
	const r = rng(seed);
	const cp = (dir: string, step: number, f: string): string => path.join(dir, 'checkpoints', String(step), f);
	const editModel = (dir: string, step: number, edit: (j: Record<string, unknown>) => void): void => {
		const f = cp(dir, step, 'model.json');
		const j = JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown>;
		edit(j);
		fs.writeFileSync(f, JSON.stringify(j));
	};
	const faults: RunFault[] = [];
	const steps = [0, 25, 50, 75];
	for (const step of steps) {
		faults.push(
			{ name: `weights FIFO @${step}`, apply: (d) => { fs.rmSync(cp(d, step, 'weights.bin')); execFileSync('mkfifo', [cp(d, step, 'weights.bin')]); }, expectRecords: steps },
			{ name: `weights /dev/zero @${step}`, apply: (d) => { fs.rmSync(cp(d, step, 'weights.bin')); fs.symlinkSync('/dev/zero', cp(d, step, 'weights.bin')); }, expectRecords: steps },
			{ name: `weights truncated @${step}`, apply: (d) => { const b = fs.readFileSync(cp(d, step, 'weights.bin')); fs.writeFileSync(cp(d, step, 'weights.bin'), b.subarray(0, Math.floor(r() * b.length))); }, expectRecords: steps },
			{ name: `weights ../ @${step}`, apply: (d) => editModel(d, step, (j) => { (j.weightsManifest as { paths: string[] }[])[0].paths = ['../../../../../../../../etc/passwd']; }), expectRecords: steps },
			{ name: `weights symlink out @${step}`, apply: (d) => { const w = cp(d, step, 'weights.bin'); fs.copyFileSync(w, path.join(d, '..', `out-${step}.bin`)); fs.rmSync(w); fs.symlinkSync(path.join(d, '..', `out-${step}.bin`), w); }, expectRecords: steps },
			{ name: `weights NaN @${step}`, apply: (d) => { const w = cp(d, step, 'weights.bin'); const b = fs.readFileSync(w); b.writeFloatLE(NaN, 4 * Math.floor(r() * (b.length / 4))); fs.writeFileSync(w, b); }, expectRecords: steps },
			{ name: `weights oversized @${step}`, apply: (d) => fs.appendFileSync(cp(d, step, 'weights.bin'), Buffer.alloc(4096)), expectRecords: steps },
			{ name: `Dense 1M units @${step}`, apply: (d) => editModel(d, step, (j) => { const ls = (j.modelTopology as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }).config.layers; const l = ls.find((x) => x.class_name === 'Dense'); if (l) { l.config.units = 1_000_000; } }), expectRecords: steps },
			{ name: `model.json garbage @${step}`, apply: (d) => fs.writeFileSync(cp(d, step, 'model.json'), '{"modelTopology": [\u0000'), expectRecords: steps },
			{ name: `model.json is a folder @${step}`, apply: (d) => { fs.rmSync(cp(d, step, 'model.json')); fs.mkdirSync(cp(d, step, 'model.json')); }, expectRecords: steps },
			{ name: `checkpoint missing @${step}`, apply: (d) => fs.rmSync(path.join(d, 'checkpoints', String(step)), { recursive: true }), expectRecords: steps },
			{ name: `checkpoint symlinked out @${step}`, apply: (d) => { const c = path.join(d, 'checkpoints', String(step)); fs.renameSync(c, path.join(d, '..', `cp-${step}`)); fs.symlinkSync(path.join(d, '..', `cp-${step}`), c); }, expectRecords: steps },
		);
	}
	faults.push(
		{ name: 'probe NaN', apply: (d) => { const p = path.join(d, 'probe/probe.bin'); const b = fs.readFileSync(p); b.writeFloatLE(NaN, 16 + 4 * b.readUInt32LE(12) + 8); fs.writeFileSync(p, b); } },
		{ name: 'probe FIFO', apply: (d) => { const p = path.join(d, 'probe/probe.bin'); fs.rmSync(p); execFileSync('mkfifo', [p]); } },
		{ name: 'probe symlink /dev/zero', apply: (d) => { const p = path.join(d, 'probe/probe.bin'); fs.rmSync(p); fs.symlinkSync('/dev/zero', p); } },
		{ name: 'probe path ../', apply: (d) => { const f = path.join(d, 'manifest.json'); const m = JSON.parse(fs.readFileSync(f, 'utf8')) as { probe: { path: string } }; m.probe.path = '../../../../../../etc/passwd'; fs.writeFileSync(f, JSON.stringify(m)); } },
		{ name: 'train sample FIFO', apply: (d) => { const p = path.join(d, 'train-sample/train-sample.bin'); if (fs.existsSync(p)) { fs.rmSync(p); execFileSync('mkfifo', [p]); } }, expectRecords: steps },
		{ name: 'trigger file /dev/zero', apply: (d) => { const t = fs.readdirSync(path.join(d, 'trigger')); const p = path.join(d, 'trigger', t[0]); fs.rmSync(p); fs.symlinkSync('/dev/zero', p); } },
		{ name: 'manifest FIFO', apply: (d) => { const p = path.join(d, 'manifest.json'); fs.rmSync(p); execFileSync('mkfifo', [p]); } },
		{ name: 'manifest garbage', apply: (d) => fs.writeFileSync(path.join(d, 'manifest.json'), '{\u0000\u001b[2J') },
		{ name: 'events FIFO', apply: (d) => { const p = path.join(d, 'events.jsonl'); fs.rmSync(p); execFileSync('mkfifo', [p]); } },
		{ name: 'events is a folder', apply: (d) => { const p = path.join(d, 'events.jsonl'); fs.rmSync(p); fs.mkdirSync(p); } },
		{ name: 'events garbage lines', apply: (d) => { const p = path.join(d, 'events.jsonl'); const l = fs.readFileSync(p, 'utf8').split('\n'); l.splice(2, 0, 'x\u0000y', '{"type":1}', '\u001b[31m'); fs.writeFileSync(p, l.join('\n')); }, expectRecords: steps },
		{ name: 'events partial last line', apply: (d) => fs.appendFileSync(path.join(d, 'events.jsonl'), '{"type":"checkpoint-wri'), expectRecords: steps },
		{ name: 'analysis.jsonl partial line', apply: (d) => fs.writeFileSync(path.join(d, 'analysis.jsonl'), '{"kind":"checkpoint","step":25,"epo'), expectRecords: steps },
		{ name: 'analysis.jsonl garbage + partial', apply: (d) => fs.writeFileSync(path.join(d, 'analysis.jsonl'), 'garbage\u0000\n{"kind":"summ'), expectRecords: steps },
		{ name: 'analysis.jsonl is a folder', apply: (d) => fs.mkdirSync(path.join(d, 'analysis.jsonl')) },
		{ name: 'analysis.jsonl FIFO', apply: (d) => execFileSync('mkfifo', [path.join(d, 'analysis.jsonl')]) },
		{ name: 'checkpoints is a file', apply: (d) => { fs.rmSync(path.join(d, 'checkpoints'), { recursive: true }); fs.writeFileSync(path.join(d, 'checkpoints'), 'x'); } },
		{ name: 'stale .tmp folder', apply: (d) => { fs.mkdirSync(path.join(d, 'checkpoints', '.tmp-99-1234567')); fs.writeFileSync(path.join(d, 'checkpoints', '.tmp-99-1234567', 'weights.bin'), 'x'); }, expectRecords: steps },
		{ name: 'run folder symlink loop', apply: (d) => { fs.rmSync(d, { recursive: true }); fs.symlinkSync(d, d); } },
	);
	return faults;
}

function runFolderCase(fixture: string, scratch: string, fault: RunFault, rssProbe: string, cli: string): void {
	const r = row('run-folder faults (analyse)');
	r.tried++;
	const dir = path.join(scratch, `run-${table.get('run-folder faults (analyse)')?.tried ?? 0}`);
	fs.mkdirSync(path.dirname(dir), { recursive: true });
	const holder = fs.mkdtempSync(path.join(scratch, 'h-'));
	const runDir = path.join(holder, 'run');
	fs.cpSync(fixture, runDir, { recursive: true });
	let priorRecords: string[] = [];
	try {
		fault.apply(runDir);
		const a = path.join(runDir, 'analysis.jsonl');
		if (fs.existsSync(a) && fs.statSync(a).isFile()) {
			priorRecords = fs.readFileSync(a, 'utf8').split('\n').filter((l) => l.endsWith('}'));
		}
	} catch (e) {
		r.crashes++;
		note(r, `${fault.name}: could not set up (${String(e)})`);
		return;
	}
	let size = 0;
	try {
		for (const p of fs.readdirSync(runDir, { recursive: true }).map(String)) {
			const st = fs.lstatSync(path.join(runDir, p));
			size += st.isFile() ? st.size : 0;
		}
	} catch {
		size = 0;
	}
	const t0 = Date.now();
	const res = spawnSync(process.execPath, ['--require', rssProbe, cli, 'analyse', runDir, '--backend', 'wasm', '--no-blind'], { encoding: 'utf8', timeout: 120_000 });
	const ms = Date.now() - t0;
	if (res.error !== undefined && /ETIMEDOUT/.test(String(res.error))) {
		r.hangs++;
		note(r, `${fault.name}: over 120 s`);
		return;
	}
	if (res.signal !== null || ![0, 1].includes(res.status ?? -1)) {
		r.crashes++;
		note(r, `${fault.name}: exit ${String(res.status)} ${String(res.signal)}: ${res.stderr.slice(-300)}`);
	}
	const m = /POISON_LENS_MAX_RSS_KB (\d+)/.exec(res.stderr);
	const rss = m === null ? 0 : Number(m[1]) * 1024;
	if (rss > 2 * size + BUDGET_BASE) {
		r.memory++;
		note(r, `${fault.name}: RSS ${(rss / 2 ** 20).toFixed(0)} MB`);
	}
	const messages = `${res.stderr.replace(/POISON_LENS_MAX_RSS_KB \d+/, '')}`;
	const raw = `${res.stdout}\n${messages}`;
	// eslint-disable-next-line no-control-regex
	if (/\n\s+at .*:\d+:\d+\)?\n/.test(raw) || /[\u0000-\u0008\u000b\u000c\u000e-\u001a\u001c-\u001f]/.test(raw) || /\u001b(?!\[\?25[hl])/.test(raw.replace(/\u001b\[[0-9;]*[A-Za-z]/g, (s) => (s.includes('?25') ? s : ''))) || /\bundefined\b|\[object Object\]|tridiagonalEigen/.test(raw)) {
		r.unclear++;
		note(r, `${fault.name}: ${raw.slice(0, 160).replace(/\n/g, ' | ')}`);
	}
	if (res.status === 1 && !/poison-lens analyse: .+/.test(messages)) {
		r.unclear++;
		note(r, `${fault.name}: exit 1 without a message`);
	}
	if (fault.expectRecords !== undefined) {
		const a = path.join(runDir, 'analysis.jsonl');
		const text = fs.existsSync(a) ? fs.readFileSync(a, 'utf8') : '';
		const steps = new Set(text.split('\n').flatMap((l) => {
			try {
				const j = JSON.parse(l) as { kind?: string; step?: number };
				return j.kind === 'checkpoint' && typeof j.step === 'number' ? [j.step] : [];
			} catch {
				return [];
			}
		}));
		const missing = fault.expectRecords.filter((s) => !steps.has(s));
		const gone = priorRecords.filter((l) => !text.includes(l) && !(fs.existsSync(`${a}.corrupt`) && fs.readFileSync(`${a}.corrupt`, 'utf8').includes(l)));
		if (missing.length > 0 || gone.length > 0) {
			r.lost++;
			note(r, `${fault.name}: missing records for steps ${missing.join(', ')}${gone.length > 0 ? `; ${gone.length} earlier line(s) gone` : ''}`);
		}
	}
	void ms;
}

/**
 * Prints the results table (one row per case, then the total) and the examples of every failure.
 * @returns the totals per column: tried, crashes, hangs, memory, lost records, unclear messages
 */
function printTable(seed: number, files: number, t0: number): number[] {
	const head = ['case', 'tried', 'crashes', 'hangs', 'memory', 'lost records', 'unclear messages'];
	const rows = [...table.entries()].map(([name, r]) => [name, r.tried, r.crashes, r.hangs, r.memory, r.lost, r.unclear].map(String));
	const total = [...table.values()].reduce((a, r) => a.map((v, i) => v + [r.tried, r.crashes, r.hangs, r.memory, r.lost, r.unclear][i]), [0, 0, 0, 0, 0, 0]);
	rows.push(['total', ...total.map(String)]);
	const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
	const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
	console.log(`\nfuzz: seed ${seed}, ${files} generated files/folders, ${((Date.now() - t0) / 1000).toFixed(0)} s, peak worker RSS ${(peakWorkerRss / 2 ** 20).toFixed(0)} MB`);
	console.log(line(head));
	console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
	for (const r of rows) {
		console.log(line(r));
	}
	for (const [name, r] of table) {
		for (const e of r.examples) {
			console.log(`  ${name}: ${e}`);
		}
	}
	return total;
}

async function main(): Promise<void> {
	const args = process.argv.slice(2);
	if (args.includes('--worker')) {
		await worker();
		return;
	}
	const opt = (name: string, def: string): string => {
		const i = args.indexOf(`--${name}`);
		return i >= 0 ? (args[i + 1] ?? def) : def;
	};
	const seed = Number(opt('seed', '17'));
	const textCount = Number(opt('text', '3000'));
	const only = new Set(opt('only', 'text,special,idx,run').split(','));
	const cli = path.join(root, 'dist/cli.js');
	if (only.has('run') && !fs.existsSync(cli)) {
		throw new Error('dist/cli.js is missing: run "node esbuild.mjs" first');
	}
	const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-fuzz-'));
	const t0 = Date.now();
	let files = 0;
	try {
		if (only.has('text')) {
			const dir = path.join(scratch, 'text');
			fs.mkdirSync(dir);
			const jobs = makeTextJobs(dir, seed, textCount);
			files += jobs.length;
			await runJobs(jobs, 30_000);
			process.stderr.write(`text: ${jobs.length} files in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
		}
		if (only.has('special')) {
			const dir = path.join(scratch, 'special');
			fs.mkdirSync(dir);
			const { jobs, servers } = await makeSpecialJobs(dir);
			files += jobs.length;
			await runJobs(jobs, 15_000);
			for (const s of servers) {
				s.close();
			}
		}
		if (only.has('idx')) {
			const dir = path.join(scratch, 'idx');
			fs.mkdirSync(dir);
			const jobs = makeIdxJobs(dir, seed, 80);
			files += 2 * jobs.length;
			await runJobs(jobs, 30_000, 40);
		}
		if (only.has('run')) {
			const rssProbe = path.join(root, 'test/e2e/maxRss.cjs');
			const fixture = path.join(root, 'test/fixtures/runs-analyser/cross');
			const dir = path.join(scratch, 'runs');
			fs.mkdirSync(dir);
			for (const fault of runFaults(seed)) {
				runFolderCase(fixture, dir, fault, rssProbe, cli);
				files++;
			}
		}
	} finally {
		if (args.includes('--keep')) {
			process.stderr.write(`kept ${scratch}\n`);
		} else {
			fs.rmSync(scratch, { recursive: true, force: true });
		}
	}
	const total = printTable(seed, files, t0);
	const bad = total.slice(1).some((v) => v > 0);
	process.exitCode = bad ? 1 : 0;
}

void main();
