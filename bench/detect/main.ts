/**
 * `npm run bench:detect [-- --quick] [--shard=I/N] [--deadline=S] [--out=DIR] [--merge=DIR,…] [--report]`
 *
 * Trains the grid's runs through the SDK (one child process each), analyses each with the real CLI
 * (`node dist/cli.js analyse`, blind copy and declared copy) and the analyser's baseline detectors (a child
 * process running src/analyser/detectors), scores every detector against the bench's own truth, and appends
 * one CSV row per run × detector to docs/detection/runs.csv (a worker with --out writes to its own folder;
 * --merge folds finished workers' rows in). Finished runs are skipped, so a killed run resumes. Then
 * docs/detection.md is generated from the CSV. --keep=DIR keeps each run's folder (checkpoints, training
 * sample, truth) for re-analysis by a later detector without retraining.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildGrid, extraCleanControls, waveTwo, type GridPoint, type Split } from './grid';
import { COLUMNS, parseCsv, scoreRun, toCsvLine, type BaselineJson, type CliOutcome } from './score';
import type { Truth } from './train';
import { CURRENT_RULE_ANALYSERS, renderPage, type LeadLine } from './report';
import { mulberry32 } from '../../src/math/random';

const ROOT = path.resolve(__dirname, '..', '..');

interface Args {
	quick: boolean;
	shard: { index: number; count: number } | null;
	deadline: number | null;
	out: string | null;
	merge: string[];
	report: boolean;
	/** Leave the quick grid's points to a quick run going on beside this one. */
	excludeQuick: boolean;
	/** Discard the results folder's finished runs first. */
	fresh: boolean;
	/** Only points whose key contains this text. */
	only: string | null;
	/** Keep each run's folder (checkpoints, training sample, truth) here instead of deleting it. */
	keep: string | null;
	/** Only points of this split (dev first, so rules can be chosen while the held-out runs are still training). */
	split: Split | null;
	/** Re-analyse the run folders kept in this directory (no training); needs --out; held-out only with --split=held-out. */
	reanalyse: string | null;
	/** Results files whose keys count as finished too (a worker that starts empty but skips what is done elsewhere). */
	doneFrom: string[];
	/** Workers' folders whose rows replace the results' rows of the same keys (re-analyses). */
	mergeReplace: string[];
	/** Train and keep the folders only (needs --keep): the analysis waits for a later --reanalyse, e.g. until rules are frozen. */
	trainOnly: boolean;
	/** Between runs, wait while this file exists (to free the cores for a timing without killing the worker). */
	pauseFile: string | null;
	/** Run the held-out split's extra clean controls (grid.ts `extraCleanControls`) instead of the design. */
	extraClean: boolean;
	/** Run the second wave (grid.ts `waveTwo`, docs/detection-wave2.md) instead of the design; `--split=dev` for its dev runs. */
	wave2: boolean;
}

export function parseDetectArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): Args {
	const a: Args = { quick: env.npm_config_quick === 'true', shard: null, deadline: null, out: null, merge: [], report: false, excludeQuick: false, fresh: false, only: null, keep: null, split: null, pauseFile: null, reanalyse: null, mergeReplace: [], doneFrom: [], trainOnly: false, extraClean: false, wave2: false };
	for (const s of argv) {
		if (s === '--quick') {
			a.quick = true;
		} else if (s === '--full') {
			a.quick = false;
		} else if (s.startsWith('--only=')) {
			a.only = s.slice(7);
		} else if (s === '--fresh') {
			a.fresh = true;
		} else if (s === '--exclude-quick') {
			a.excludeQuick = true;
		} else if (s === '--report') {
			a.report = true;
		} else if (s.startsWith('--shard=')) {
			const m = /^(\d+)\/(\d+)$/.exec(s.slice(8));
			if (m === null || !(Number(m[2]) >= 1 && Number(m[1]) < Number(m[2]))) {
				throw new Error(`bench:detect: ${s}: expected --shard=I/N with 0 <= I < N`);
			}
			a.shard = { index: Number(m[1]), count: Number(m[2]) };
		} else if (s.startsWith('--deadline=')) {
			const n = Number(s.slice(11));
			if (!(Number.isFinite(n) && n >= 0)) {
				throw new Error(`bench:detect: ${s}: expected seconds`);
			}
			a.deadline = n;
		} else if (s.startsWith('--keep=')) {
			a.keep = path.resolve(s.slice(7));
		} else if (s.startsWith('--split=')) {
			const v = s.slice(8);
			if (v !== 'dev' && v !== 'held-out') {
				throw new Error(`bench:detect: ${s}: expected --split=dev or --split=held-out`);
			}
			a.split = v;
		} else if (s.startsWith('--pause-file=')) {
			a.pauseFile = path.resolve(s.slice(13));
		} else if (s.startsWith('--out=')) {
			a.out = path.resolve(s.slice(6));
		} else if (s.startsWith('--reanalyse=')) {
			a.reanalyse = path.resolve(s.slice(12));
		} else if (s === '--extra-clean') {
			a.extraClean = true;
		} else if (s === '--wave2') {
			a.wave2 = true;
		} else if (s === '--train-only') {
			a.trainOnly = true;
		} else if (s.startsWith('--done-from=')) {
			a.doneFrom.push(...s.slice(12).split(',').filter((x) => x.length > 0).map((x) => path.resolve(x)));
		} else if (s.startsWith('--merge-replace=')) {
			a.mergeReplace.push(...s.slice(16).split(',').filter((x) => x.length > 0).map((x) => path.resolve(x)));
		} else if (s.startsWith('--merge=')) {
			a.merge.push(...s.slice(8).split(',').filter((x) => x.length > 0).map((x) => path.resolve(x)));
		} else {
			throw new Error(`bench:detect: unknown argument '${s}' (known: --quick, --full, --fresh, --only=TEXT, --report, --exclude-quick, --shard=I/N, --deadline=S, --out=DIR, --keep=DIR, --split=dev|held-out, --pause-file=FILE, --reanalyse=DIR, --train-only, --extra-clean, --wave2, --done-from=CSV[,CSV], --merge=DIR[,DIR], --merge-replace=DIR[,DIR])`);
		}
	}
	if (a.fresh && a.report) {
		throw new Error('bench:detect: --report reads the finished runs, --fresh discards them; use one');
	}
	if (a.trainOnly && a.keep === null) {
		throw new Error('bench:detect: --train-only keeps the trained folders for a later --reanalyse: add --keep=DIR');
	}
	if (a.reanalyse !== null && a.out === null) {
		throw new Error('bench:detect: --reanalyse writes its rows to a worker folder: add --out=DIR, then fold them in with --merge-replace=DIR');
	}
	return a;
}

/** Blocks (polling every 5 s) while the pause file exists. */
function waitWhilePaused(file: string | null): void {
	if (file === null || !fs.existsSync(file)) {
		return;
	}
	process.stderr.write(`bench:detect: paused while ${file} exists\n`);
	while (fs.existsSync(file)) {
		spawnSync('sleep', ['5']);
	}
	process.stderr.write('bench:detect: resumed\n');
}

function run(cmd: string, args: string[], label: string): { seconds: number } {
	const t0 = performance.now();
	const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
	if (r.status !== 0) {
		throw new Error(`${label} failed (exit ${r.status}): ${(r.stderr ?? '').split('\n').filter((l) => !l.startsWith('    at')).slice(-6).join(' | ')}`);
	}
	return { seconds: (performance.now() - t0) / 1000 };
}

/** Every row's suspicion score from the blind scan's scores file (row,label,score,… after two header lines), or null. */
export function readRowScoresSync(runDir: string, file: string | null): Map<number, number> | null {
	if (file === null || !fs.existsSync(path.join(runDir, file))) {
		return null;
	}
	const out = new Map<number, number>();
	for (const line of fs.readFileSync(path.join(runDir, file), 'utf8').split('\n').slice(2)) {
		const [row, , score] = line.split(',');
		if (row !== undefined && score !== undefined && row !== '') {
			out.set(Number(row), Number(score));
		}
	}
	return out;
}

function readSummary(runDir: string): { spectralStep: number | null; blind: { flipRate: number | null; suspectRows: number[]; rowScores: Map<number, number> | null } | null } {
	const lines = fs.readFileSync(path.join(runDir, 'analysis.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"summary"'));
	const last = JSON.parse(lines[lines.length - 1]) as { lag?: { spectralStep: number | null }; blind?: { flipRate: number | null; suspectRows?: number[]; rowScoresFile?: string | null } | null };
	return {
		spectralStep: last.lag?.spectralStep ?? null,
		blind: last.blind === null || last.blind === undefined ? null : { flipRate: last.blind.flipRate, suspectRows: last.blind.suspectRows ?? [], rowScores: readRowScoresSync(runDir, last.blind.rowScoresFile ?? null) },
	};
}

function analyse(runDir: string, jsonOut: string, blind: boolean): CliOutcome {
	const { seconds } = run(process.execPath, ['dist/cli.js', 'analyse', runDir, '--backend', 'wasm', '--json', jsonOut, ...(blind ? [] : ['--no-blind'])], `analyse ${runDir}`);
	const j = JSON.parse(fs.readFileSync(jsonOut, 'utf8')) as { verdict: string; checkpoints: { step: number; triggerOverlap: number | null; spectralGap: number | null }[] };
	const s = readSummary(runDir);
	return { verdict: j.verdict, seconds, checkpoints: j.checkpoints, spectralStep: s.spectralStep, blind: s.blind };
}

let versionCache: string | null = null;

/** The commit of the analyser that measured a run (with "+changes" when the work tree differs from it). */
export function analyserVersion(): string {
	if (versionCache === null) {
		const head = spawnSync('git', ['rev-parse', '--short=7', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
		const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no', 'src'], { cwd: ROOT, encoding: 'utf8' });
		versionCache = head.status === 0 ? `${head.stdout.trim()}${dirty.stdout.trim().length > 0 ? '+changes' : ''}` : 'unknown';
	}
	return versionCache;
}

/** What the analysers write into a run folder: removed before a re-analysis, so nothing of the earlier one is read. */
const ANALYSIS_OUTPUTS = ['analysis.jsonl', 'analysis.jsonl.corrupt', 'blind'];

/** Analyses a trained point's two copies with the CLI, runs the baselines, scores everything against the truth. */
function analyseAndScore(p: GridPoint, work: string): { rows: ReturnType<typeof scoreRun>; json: string } {
	const truth = JSON.parse(fs.readFileSync(path.join(work, 'truth.json'), 'utf8')) as Truth;
	// Ground truth never enters what a detector reads: the blind copy has no declaration and no trigger.
	const manifest = JSON.parse(fs.readFileSync(path.join(truth.blindDir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
	if ('attack' in manifest || fs.existsSync(path.join(truth.blindDir, 'trigger'))) {
		throw new Error(`${truth.blindDir}: the blind copy still declares an attack`);
	}
	const declaredManifest = JSON.parse(fs.readFileSync(path.join(truth.declaredDir, 'manifest.json'), 'utf8')) as { attack?: { poisonedRows?: unknown; poisonFraction?: unknown } };
	if (declaredManifest.attack?.poisonedRows !== undefined || declaredManifest.attack?.poisonFraction !== undefined) {
		throw new Error(`${truth.declaredDir}: the declared copy names poisoned rows`);
	}
	for (const dir of [truth.blindDir, truth.declaredDir]) {
		for (const f of ANALYSIS_OUTPUTS) {
			fs.rmSync(path.join(dir, f), { recursive: true, force: true });
		}
	}
	const blind = analyse(truth.blindDir, path.join(work, 'blind.json'), true);
	const declared = analyse(truth.declaredDir, path.join(work, 'declared.json'), false);
	const baseOut = path.join(work, 'baselines.json');
	run(process.execPath, ['--import', 'tsx', 'bench/detect/baselines.ts', truth.blindDir, baseOut], `baselines ${p.key}`);
	const base = JSON.parse(fs.readFileSync(baseOut, 'utf8')) as BaselineJson;
	const rows = scoreRun(p, truth, base, blind, declared);
	const json = JSON.stringify({
		key: p.key,
		point: p,
		trigger: truth.trigger,
		poisoned: truth.poisonedRows.length,
		timeline: truth.timeline,
		trainSeconds: truth.trainSeconds,
		blindVerdict: blind.verdict,
		declaredVerdict: declared.verdict,
		analyser: analyserVersion(),
		analysedAt: new Date().toISOString().slice(0, 10),
		detectors: base.detectors.map((d) => ({ detector: d.detector, runScore: d.runScore, alarm: d.alarm, flagged: d.flagged.length, seconds: d.seconds })),
	});
	return { rows, json };
}

/**
 * Re-analyses one kept run folder with the analyser and detectors as they are now (no training): the same
 * rows as a fresh run of the point. The point comes from the folder's record in runs.jsonl.
 */
function reanalysePoint(p: GridPoint, kept: string): { csv: string[]; json: string } {
	const { rows, json } = analyseAndScore(p, kept);
	return { csv: rows.map(toCsvLine), json };
}

/** Moves a trained point's folder into `keep` and points its truth at the kept copy. */
function keepFolder(p: GridPoint, work: string, keep: string): void {
	fs.mkdirSync(keep, { recursive: true });
	fs.rmSync(path.join(keep, p.key), { recursive: true, force: true });
	const kept = path.join(keep, p.key);
	fs.cpSync(work, kept, { recursive: true });
	fs.rmSync(work, { recursive: true, force: true });
	// The truth names its folders by absolute path: point it at the kept copy.
	const truthFile = path.join(kept, 'truth.json');
	fs.writeFileSync(truthFile, fs.readFileSync(truthFile, 'utf8').split(JSON.stringify(work).slice(1, -1)).join(JSON.stringify(kept).slice(1, -1)));
}

/** --train-only: trains one point and keeps its folder, analysing nothing (a later --reanalyse scores it). */
function trainAndKeep(p: GridPoint, workRoot: string, keep: string): void {
	const work = path.join(workRoot, p.key);
	fs.rmSync(work, { recursive: true, force: true });
	fs.mkdirSync(work, { recursive: true });
	run(process.execPath, ['--import', 'tsx', 'bench/detect/train.ts', JSON.stringify(p), work], `train ${p.key}`);
	keepFolder(p, work, keep);
}

/** Trains, analyses and scores one point; returns its CSV lines and a JSON summary line. */
function runPoint(p: GridPoint, workRoot: string, keep: string | null): { csv: string[]; json: string } {
	const work = path.join(workRoot, p.key);
	fs.rmSync(work, { recursive: true, force: true });
	fs.mkdirSync(work, { recursive: true });
	run(process.execPath, ['--import', 'tsx', 'bench/detect/train.ts', JSON.stringify(p), work], `train ${p.key}`);
	const { rows, json } = analyseAndScore(p, work);
	if (keep === null) {
		fs.rmSync(work, { recursive: true, force: true });
	} else {
		keepFolder(p, work, keep);
	}
	return { csv: rows.map(toCsvLine), json };
}

/** Seeded Fisher–Yates shuffle (mulberry32). */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
	const a = [...items];
	const rand = mulberry32(seed);
	for (let i = a.length - 1; i > 0; i--) {
		const j = Math.floor(rand() * (i + 1));
		[a[i], a[j]] = [a[j], a[i]];
	}
	return a;
}

/**
 * The runs a worker does, in order: the selected points in a fixed random order (full mode; any prefix of a partial
 * run is a uniform sample), this worker's share of them (`--shard=I/N` takes every N-th from I), then those not done.
 * The share is taken before the finished runs are removed, so a restarted shard never takes another shard's runs.
 */
export function planRuns(points: readonly GridPoint[], args: Pick<Args, 'quick' | 'excludeQuick' | 'only' | 'split' | 'shard'>, finished: (key: string) => boolean): GridPoint[] {
	let pool = points.filter((p) => (args.quick ? p.quick : !(args.excludeQuick && p.quick)) && (args.only === null || p.key.includes(args.only)) && (args.split === null || p.split === args.split));
	if (!args.quick) {
		pool = shuffled(pool, 14);
	}
	if (args.shard !== null) {
		const { index, count } = args.shard;
		pool = pool.filter((_, i) => i % count === index);
	}
	return pool.filter((p) => !finished(p.key));
}

function readCsvKeys(file: string): Set<string> {
	if (!fs.existsSync(file)) {
		return new Set();
	}
	return new Set(parseCsv(fs.readFileSync(file, 'utf8')).map((r) => r.key));
}

function appendLines(file: string, lines: string[], header: string | null): void {
	if (!fs.existsSync(file) && header !== null) {
		fs.writeFileSync(file, `${header}\n`);
	}
	fs.appendFileSync(file, lines.map((l) => `${l}\n`).join(''));
}

/** The grid point of every finished run (its runs.jsonl record), so a kept folder of an earlier design can be re-analysed too. */
function knownPoints(): Map<string, GridPoint> {
	const out = new Map([...buildGrid(), ...extraCleanControls(), ...waveTwo()].map((p) => [p.key, p]));
	const file = path.join(ROOT, 'docs', 'detection', 'runs.jsonl');
	if (fs.existsSync(file)) {
		for (const l of fs.readFileSync(file, 'utf8').split('\n').filter((x) => x.length > 0)) {
			const r = JSON.parse(l) as { key: string; point: GridPoint };
			out.set(r.key, r.point);
		}
	}
	return out;
}

/** --reanalyse: every kept folder of the chosen split (dev unless --split=held-out), not yet re-analysed into --out. */
function reanalyseKept(keepDir: string, args: Args, csvFile: string, jsonFile: string, errFile: string, header: string, t0: number): void {
	const split: Split = args.split ?? 'dev';
	const points = knownPoints();
	const done = new Set([...readCsvKeys(csvFile), ...args.doneFrom.flatMap((f) => [...readCsvKeys(f)])]);
	let todo = fs
		.readdirSync(keepDir)
		.filter((k) => fs.existsSync(path.join(keepDir, k, 'truth.json')))
		.map((k) => points.get(k))
		.filter((p): p is GridPoint => p !== undefined && p.split === split && (args.only === null || p.key.includes(args.only)))
		.sort((a, b) => a.key.localeCompare(b.key));
	// The grid's fixed random order, so that a re-analysis cut short leaves a uniform sample, not the first architectures;
	// the shard's share is taken before the finished runs leave it (a restarted shard keeps its own share).
	todo = shuffled(todo, 14);
	if (args.shard !== null) {
		const { index, count } = args.shard;
		todo = todo.filter((_, i) => i % count === index);
	}
	todo = todo.filter((p) => !done.has(p.key));
	process.stderr.write(`bench:detect: re-analysing ${todo.length} kept ${split} runs from ${keepDir}\n`);
	for (const [i, p] of todo.entries()) {
		waitWhilePaused(args.pauseFile);
		if (args.deadline !== null && (Date.now() - t0) / 1000 > args.deadline) {
			process.stderr.write(`bench:detect: deadline reached, ${todo.length - i} left\n`);
			break;
		}
		const ts = Date.now();
		try {
			const r = reanalysePoint(p, path.join(keepDir, p.key));
			appendLines(csvFile, r.csv, header);
			appendLines(jsonFile, [r.json], null);
			process.stderr.write(`bench:detect: [${i + 1}/${todo.length}] ${p.key} re-analysed in ${((Date.now() - ts) / 1000).toFixed(0)} s\n`);
		} catch (err) {
			const message = err instanceof Error ? err.message : String(err);
			appendLines(errFile, [JSON.stringify({ key: p.key, error: `re-analysis: ${message}` })], null);
			process.stderr.write(`bench:detect: [${i + 1}/${todo.length}] ${p.key} FAILED: ${message}\n`);
		}
	}
}

/** The results files a call writes. */
interface ResultFiles {
	readonly csvFile: string;
	readonly jsonFile: string;
	readonly errFile: string;
	readonly header: string;
}

/** --merge-replace: re-analysed workers' rows replace the rows of the same keys. */
function mergeReplaced(dirs: readonly string[], { csvFile, jsonFile, header }: ResultFiles): void {
	for (const dir of dirs) {
		const theirs = path.join(dir, 'runs.csv');
		if (!fs.existsSync(theirs)) {
			continue;
		}
		const lines = fs.readFileSync(theirs, 'utf8').split('\n').slice(1).filter((l) => l.length > 0);
		const keys = new Set(lines.map((l) => l.split(',')[0]));
		const keepLines = (file: string, keyOf: (l: string) => string): string[] =>
			fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0 && !keys.has(keyOf(l))) : [];
		const csvKept = keepLines(csvFile, (l) => l.split(',')[0]).filter((l) => l !== header);
		fs.writeFileSync(csvFile, [header, ...csvKept, ...lines].map((l) => `${l}\n`).join(''));
		const tj = path.join(dir, 'runs.jsonl');
		const jsonKept = keepLines(jsonFile, (l) => (JSON.parse(l) as { key: string }).key);
		const jsonTheirs = fs.existsSync(tj) ? fs.readFileSync(tj, 'utf8').split('\n').filter((l) => l.length > 0) : [];
		fs.writeFileSync(jsonFile, [...jsonKept, ...jsonTheirs].map((l) => `${l}\n`).join(''));
		process.stderr.write(`bench:detect: replaced the rows of ${keys.size} re-analysed runs from ${dir}\n`);
	}
}

/** --merge: finished workers' rows are folded in, each key once. */
function mergeWorkers(dirs: readonly string[], { csvFile, jsonFile, errFile, header }: ResultFiles): void {
	for (const dir of dirs) {
		const have = readCsvKeys(csvFile);
		const theirs = path.join(dir, 'runs.csv');
		if (!fs.existsSync(theirs)) {
			continue;
		}
		const lines = fs.readFileSync(theirs, 'utf8').split('\n').slice(1).filter((l) => l.length > 0 && !have.has(l.split(',')[0]));
		appendLines(csvFile, lines, header);
		const tj = path.join(dir, 'runs.jsonl');
		if (fs.existsSync(tj)) {
			appendLines(jsonFile, fs.readFileSync(tj, 'utf8').split('\n').filter((l) => l.length > 0 && !have.has((JSON.parse(l) as { key: string }).key)), null);
		}
		const te = path.join(dir, 'errors.jsonl');
		if (fs.existsSync(te)) {
			appendLines(errFile, fs.readFileSync(te, 'utf8').split('\n').filter((l) => l.length > 0), null);
		}
		process.stderr.write(`bench:detect: merged ${lines.length} rows from ${dir}\n`);
	}
}

function main(): void {
	const args = parseDetectArgs(process.argv.slice(2), process.env);
	const t0 = Date.now();
	const resultsDir = args.out ?? path.join(ROOT, 'docs', 'detection');
	fs.mkdirSync(resultsDir, { recursive: true });
	const csvFile = path.join(resultsDir, 'runs.csv');
	const jsonFile = path.join(resultsDir, 'runs.jsonl');
	const errFile = path.join(resultsDir, 'errors.jsonl');
	const header = COLUMNS.join(',');
	if (args.fresh) {
		for (const f of [csvFile, jsonFile, errFile]) {
			fs.rmSync(f, { force: true });
		}
	}
	mergeReplaced(args.mergeReplace, { csvFile, jsonFile, errFile, header });
	mergeWorkers(args.merge, { csvFile, jsonFile, errFile, header });
	if (args.reanalyse !== null) {
		reanalyseKept(args.reanalyse, args, csvFile, jsonFile, errFile, header, t0);
	} else if (!args.report) {
		const done = new Set([...readCsvKeys(csvFile), ...args.doneFrom.flatMap((f) => [...readCsvKeys(f)])]);
		const failed = fs.existsSync(errFile)
			? new Set(fs.readFileSync(errFile, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => (JSON.parse(l) as { key: string }).key))
			: new Set<string>();
		let pending = planRuns(args.wave2 ? waveTwo() : args.extraClean ? extraCleanControls() : buildGrid(), args, (key) => done.has(key) || failed.has(key));
		if (args.trainOnly) {
			const keepDir = args.keep ?? '';
			pending = pending.filter((p) => !fs.existsSync(path.join(keepDir, p.key, 'truth.json')));
		}
		process.stderr.write(`bench:detect: ${pending.length} runs to do (${args.quick ? 'quick' : 'full'} grid${args.shard === null ? '' : `, shard ${args.shard.index}/${args.shard.count}`})\n`);
		const workRoot = path.join(os.tmpdir(), `poison-lens-bench-detect-${process.pid}`);
		for (const [i, p] of pending.entries()) {
			waitWhilePaused(args.pauseFile);
			if (args.deadline !== null && (Date.now() - t0) / 1000 > args.deadline) {
				process.stderr.write(`bench:detect: deadline reached, ${pending.length - i} runs left\n`);
				break;
			}
			const ts = Date.now();
			try {
				if (args.trainOnly) {
					trainAndKeep(p, workRoot, args.keep ?? '');
					process.stderr.write(`bench:detect: [${i + 1}/${pending.length}] ${p.key} trained and kept in ${((Date.now() - ts) / 1000).toFixed(0)} s\n`);
					continue;
				}
				const r = runPoint(p, workRoot, args.keep);
				appendLines(csvFile, r.csv, header);
				appendLines(jsonFile, [r.json], null);
				process.stderr.write(`bench:detect: [${i + 1}/${pending.length}] ${p.key} done in ${((Date.now() - ts) / 1000).toFixed(0)} s\n`);
			} catch (err) {
				const message = err instanceof Error ? err.message : String(err);
				appendLines(errFile, [JSON.stringify({ key: p.key, error: message })], null);
				process.stderr.write(`bench:detect: [${i + 1}/${pending.length}] ${p.key} FAILED: ${message}\n`);
			}
		}
		fs.rmSync(workRoot, { recursive: true, force: true });
	}
	// An error superseded by a finished run of the same key (a rerun after a fix) is dropped.
	if (fs.existsSync(errFile)) {
		const done = readCsvKeys(csvFile);
		const kept = fs.readFileSync(errFile, 'utf8').split('\n').filter((l) => l.length > 0 && !done.has((JSON.parse(l) as { key: string }).key));
		fs.writeFileSync(errFile, kept.map((l) => `${l}\n`).join(''));
	}
	if (args.out === null) {
		const rows = fs.existsSync(csvFile) ? parseCsv(fs.readFileSync(csvFile, 'utf8')) : [];
		const errors = fs.existsSync(errFile)
			? fs.readFileSync(errFile, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as { key: string; error: string })
			: [];
		const analysers = new Map<string, { analyser: string; analysedAt: string }>();
		if (fs.existsSync(jsonFile)) {
			for (const l of fs.readFileSync(jsonFile, 'utf8').split('\n').filter((x) => x.length > 0)) {
				const r = JSON.parse(l) as { key: string; analyser?: string; analysedAt?: string };
				analysers.set(r.key, { analyser: r.analyser ?? '', analysedAt: r.analysedAt ?? '' });
			}
		}
		const leadFile = path.join(ROOT, 'docs', 'detection', 'lead.jsonl');
		const lead = fs.existsSync(leadFile)
			? fs.readFileSync(leadFile, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as LeadLine)
			: [];
		const cutTables = (): Partial<Record<'dev' | 'held-out', string>> => {
			const read = (name: string): string | undefined => {
				const f = path.join(ROOT, 'docs', 'detection', name);
				return fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : undefined;
			};
			return { dev: read('dev-cut.txt'), 'held-out': read('held-out-cut.txt') };
		};
		fs.writeFileSync(path.join(ROOT, 'docs', 'detection.md'), renderPage(rows, buildGrid(), errors, analysers, CURRENT_RULE_ANALYSERS, lead, cutTables()));
		process.stderr.write(`bench:detect: wrote docs/detection.md from ${rows.length} rows\n`);
	}
}

if (require.main === module) {
	try {
		main();
	} catch (err) {
		process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
		process.exit(1);
	}
}
