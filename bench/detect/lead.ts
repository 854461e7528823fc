/**
 * Lead time of the LIVE blind alarm. Each kept run folder (the blind copy: no declared attack) is replayed into
 * `poison-lens analyse --follow` as if it were training: its events.jsonl is written up to the first checkpoint, then
 * one checkpoint more each time the analyser has finished with the newest one (its checkpoint record, and its live
 * blind line when a scan was due). Live monitoring runs with the product's defaults (one scan per epoch, time-boxed to
 * a share of the epoch time the run's own events measured). The end event is never written: the once-per-run blind
 * scan at the end is what `bench:detect` already measures.
 *
 *     node --import tsx bench/detect/lead.ts --keep=DIR --split=dev|held-out [--share=F] [--shard=I/N] [--out=DIR] [--only=TEXT] [--deadline=S]
 *
 * Per run, one line of OUT/lead.jsonl: every live scan (epoch, state, score, null band, rows scored, seconds), the
 * first alarm's epoch, the epoch where the attack reached half its final excess ASR (the bench's own ASR record, never
 * shown to the analyser) and their difference, the lead (negative: warned before the attack worked). Resumable: runs
 * already in OUT/lead.jsonl are skipped. Runs in the grid's fixed random order, so a cut-short replay is a uniform
 * sample. The replay is kinder than training in one way, stated in docs/detection.md: training waits for each scan,
 * so no scan is dropped because a newer checkpoint arrived first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAnalysisFile } from '../../src/protocol/analysisRecord';
import { DEFAULT_LIVE_BLIND_SHARE, dueCheckpoint, type ScanPoint } from '../../src/analyser/analysis/liveBlind';
import { buildGrid, type GridPoint, type Split } from './grid';
import { halfAsrEpoch, leadTime } from './metrics';
import { statusOf } from './score';
import type { Truth } from './train';
import { analyserVersion, shuffled } from './main';

const ROOT = path.resolve(__dirname, '../..');

/** One live scan as the replay records it. */
export interface LeadScan {
	readonly step: number;
	readonly epoch: number;
	readonly state: string;
	readonly score: number | null;
	readonly nullHigh: number | null;
	readonly scoredRows: number | null;
	readonly seconds: number | null;
}

/** One replayed run. */
export interface LeadRecord {
	readonly key: string;
	readonly split: Split;
	readonly arch: string;
	readonly dataset: string;
	readonly attack: string;
	readonly status: 'clean' | 'works' | 'failed';
	readonly scans: readonly LeadScan[];
	/** Epoch of the first live scan in state `alarm` (null: none alarmed). */
	readonly firstAlarmEpoch: number | null;
	readonly halfEpoch: number | null;
	readonly leadEpochs: number | null;
	/** Due scans that wrote no blind line (a scan stopped past its hard limit). */
	readonly missingScans: number;
	/** The live scans' share of the epoch the replay ran with (--blind-share). */
	readonly share: number;
	readonly analyser: string;
	readonly analysedAt: string;
}

/** The first alarm's epoch among the scans, in step order (pure). */
export function firstAlarmEpoch(scans: readonly Pick<LeadScan, 'step' | 'epoch' | 'state'>[]): number | null {
	const hit = [...scans].sort((a, b) => a.step - b.step).find((s) => s.state === 'alarm');
	return hit === undefined ? null : hit.epoch;
}

/**
 * The checkpoints the live monitor scans when training waits for every scan (pure): walking the checkpoints in
 * order, a scan is due at checkpoint k when {@link dueCheckpoint} says so for the checkpoints announced so far.
 */
export function dueSteps(checkpoints: readonly ScanPoint[], every: 'epoch' | number = 'epoch'): number[] {
	const sorted = [...checkpoints].sort((a, b) => a.step - b.step);
	const out: number[] = [];
	let last: ScanPoint | null = null;
	for (let k = 0; k < sorted.length; k++) {
		const due = dueCheckpoint(sorted.slice(0, k + 1), last, every);
		if (due !== null) {
			out.push(due.step);
			last = due;
		}
	}
	return out;
}

interface Event {
	readonly type: string;
	readonly step?: number;
	readonly epoch?: number;
	readonly fractionalEpoch?: number;
}

async function waitUntil(what: string, ok: () => boolean, child: ChildProcess, timeoutMs: number): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	while (!ok()) {
		if (child.exitCode !== null) {
			throw new Error(`analyse --follow exited (${child.exitCode}) while waiting for ${what}`);
		}
		if (Date.now() > deadline) {
			return false;
		}
		await new Promise((r) => setTimeout(r, 200));
	}
	return true;
}

/** Replays one kept blind folder into `analyse --follow`; returns the live scans and how many due scans wrote nothing. */
export async function replay(blindDir: string, workDir: string, share: number): Promise<{ scans: LeadScan[]; missing: number }> {
	const dir = path.join(workDir, path.basename(blindDir));
	fs.rmSync(dir, { recursive: true, force: true });
	fs.cpSync(blindDir, dir, { recursive: true, filter: (src) => !['analysis.jsonl', 'analysis.jsonl.corrupt', 'blind'].includes(path.relative(blindDir, src)) });
	const lines = fs.readFileSync(path.join(blindDir, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '');
	const events = lines.map((l) => JSON.parse(l) as Event);
	const cpIdx = events.map((e, i) => (e.type === 'checkpoint-written' ? i : -1)).filter((i) => i >= 0);
	const points: ScanPoint[] = cpIdx.map((i) => ({ step: events[i].step ?? 0, epoch: events[i].fractionalEpoch ?? events[i].epoch ?? 0 }));
	const due = new Set(dueSteps(points));
	const eventsFile = path.join(dir, 'events.jsonl');
	fs.writeFileSync(eventsFile, lines.slice(0, cpIdx[0] + 1).join('\n') + '\n');
	let written = cpIdx[0] + 1;
	const child = spawn(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'analyse', dir, '--follow', '--backend', 'wasm', '--blind-share', String(share)], {
		stdio: ['ignore', 'ignore', 'pipe'],
		env: { ...process.env, POISON_LENS_FOLLOW_STALE_MS: String(24 * 3600 * 1000) },
	});
	let stderr = '';
	child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20000)));
	const read = (): ReturnType<typeof parseAnalysisFile> => {
		const f = path.join(dir, 'analysis.jsonl');
		return fs.existsSync(f) ? parseAnalysisFile(fs.readFileSync(f, 'utf8'), f) : { checkpoints: [], summary: null, blind: [], problems: [] };
	};
	try {
		for (let k = 0; k < points.length; k++) {
			const step = points[k].step;
			if (!(await waitUntil(`checkpoint ${step}`, () => read().checkpoints.some((c) => c.step === step), child, 20 * 60_000))) {
				throw new Error(`no checkpoint record for step ${step} after 20 min (stderr: ${stderr.slice(-600)})`);
			}
			const stopped = new RegExp(`live blind scan at step ${step} \\(epoch [\\d.]+\\) stopped after`);
			if (due.has(step)) {
				await waitUntil(`the live scan of step ${step}`, () => read().blind.some((b) => b.step === step) || stopped.test(stderr), child, 20 * 60_000);
			}
			if (k + 1 < points.length) {
				const next = cpIdx[k + 1] + 1;
				fs.appendFileSync(eventsFile, lines.slice(written, next).join('\n') + '\n');
				written = next;
			}
		}
		// A due scan the analyser gave up on writes no line; anything still running is not waited for.
	} finally {
		child.kill();
	}
	const scans = read().blind.map((b) => ({
		step: b.step,
		epoch: b.epoch,
		state: b.test.state,
		score: b.test.score,
		nullHigh: b.test.nullHigh,
		scoredRows: b.scoredRows,
		seconds: b.analysisMs === null ? null : Number((b.analysisMs / 1000).toFixed(2)),
	}));
	fs.rmSync(dir, { recursive: true, force: true });
	// A due scan that wrote no line was given up (past twice its box, or still running at the 20-minute wait).
	return { scans, missing: [...due].filter((s) => !scans.some((x) => x.step === s)).length };
}

/** The lead record of one replayed run (pure). */
export function leadRecord(p: GridPoint, truth: Truth, scans: readonly LeadScan[], missing: number, share: number, analyser: string, analysedAt: string): LeadRecord {
	const first = firstAlarmEpoch(scans);
	const half = halfAsrEpoch(truth.timeline);
	return {
		key: p.key,
		split: p.split,
		arch: p.arch,
		dataset: p.dataset,
		attack: p.attack ?? 'none',
		status: statusOf(p, truth),
		scans: [...scans].sort((a, b) => a.step - b.step),
		firstAlarmEpoch: first,
		halfEpoch: half,
		leadEpochs: leadTime(first, half),
		missingScans: missing,
		share,
		analyser,
		analysedAt,
	};
}

interface LeadArgs {
	readonly keep: string;
	readonly split: Split;
	readonly out: string;
	readonly shard: { index: number; count: number } | null;
	readonly only: string | null;
	readonly deadline: number | null;
	/** The live scans' share of the epoch (--blind-share). */
	readonly share: number;
}

export function parseLeadArgs(argv: readonly string[]): LeadArgs {
	const get = (name: string): string | null => {
		const a = argv.find((x) => x.startsWith(`--${name}=`));
		return a === undefined ? null : a.slice(name.length + 3);
	};
	const unknown = argv.filter((a) => !/^--(keep|split|out|shard|only|deadline|share)=/.test(a));
	if (unknown.length > 0) {
		throw new Error(`bench/detect/lead: unknown argument '${unknown[0]}' (known: --keep=DIR, --split=dev|held-out, --out=DIR, --shard=I/N, --only=TEXT, --deadline=S, --share=F)`);
	}
	const keep = get('keep');
	const split = get('split');
	if (keep === null || (split !== 'dev' && split !== 'held-out')) {
		throw new Error('bench/detect/lead: needs --keep=DIR (the kept run folders) and --split=dev or --split=held-out');
	}
	const shardRaw = get('shard');
	let shard: LeadArgs['shard'] = null;
	if (shardRaw !== null) {
		const m = /^(\d+)\/(\d+)$/.exec(shardRaw);
		if (m === null || Number(m[1]) >= Number(m[2])) {
			throw new Error(`bench/detect/lead: --shard must be I/N with 0 ≤ I < N, got '${shardRaw}'`);
		}
		shard = { index: Number(m[1]), count: Number(m[2]) };
	}
	const deadlineRaw = get('deadline');
	const deadline = deadlineRaw === null ? null : Number(deadlineRaw);
	if (deadline !== null && !(deadline > 0)) {
		throw new Error(`bench/detect/lead: --deadline must be a positive number of seconds, got '${String(deadlineRaw)}'`);
	}
	const share = Number(get('share') ?? DEFAULT_LIVE_BLIND_SHARE);
	if (!(share > 0 && share <= 1)) {
		throw new Error(`bench/detect/lead: --share must be in (0, 1], got '${String(get('share'))}'`);
	}
	return { share, keep: path.resolve(keep), split, out: path.resolve(get('out') ?? path.join(ROOT, 'docs', 'detection')), shard, only: get('only'), deadline };
}

async function main(argv: readonly string[]): Promise<void> {
	const args = parseLeadArgs(argv);
	const t0 = Date.now();
	fs.mkdirSync(args.out, { recursive: true });
	const outFile = path.join(args.out, 'lead.jsonl');
	const done = new Set(
		fs.existsSync(outFile)
			? fs.readFileSync(outFile, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => (JSON.parse(l) as { key: string }).key)
			: [],
	);
	let todo = shuffled(
		buildGrid().filter((p) => p.split === args.split && !done.has(p.key) && (args.only === null || p.key.includes(args.only)) && fs.existsSync(path.join(args.keep, p.key, 'truth.json'))),
		15,
	);
	if (args.shard !== null) {
		const { index, count } = args.shard;
		todo = todo.filter((_, i) => i % count === index);
	}
	process.stderr.write(`lead: ${todo.length} kept ${args.split} run(s) to replay\n`);
	const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-lead-'));
	try {
		for (const [i, p] of todo.entries()) {
			if (args.deadline !== null && (Date.now() - t0) / 1000 > args.deadline) {
				process.stderr.write(`lead: deadline reached, ${todo.length - i} run(s) left\n`);
				break;
			}
			const ts = Date.now();
			const truth = JSON.parse(fs.readFileSync(path.join(args.keep, p.key, 'truth.json'), 'utf8')) as Truth;
			try {
				const { scans, missing } = await replay(truth.blindDir, workDir, args.share);
				const rec = leadRecord(p, truth, scans, missing, args.share, analyserVersion(), new Date().toISOString().slice(0, 10));
				fs.appendFileSync(outFile, `${JSON.stringify(rec)}\n`);
				process.stderr.write(
					`lead: [${i + 1}/${todo.length}] ${p.key} (${rec.status}): ${scans.map((s) => `${s.epoch.toFixed(1)}:${s.state}`).join(' ')}; first alarm ${String(rec.firstAlarmEpoch)}, lead ${String(rec.leadEpochs)} (${((Date.now() - ts) / 1000).toFixed(0)} s)\n`,
				);
			} catch (err) {
				process.stderr.write(`lead: [${i + 1}/${todo.length}] ${p.key} FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
			}
		}
	} finally {
		fs.rmSync(workDir, { recursive: true, force: true });
	}
}

if (require.main === module) {
	main(process.argv.slice(2)).catch((err: unknown) => {
		process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
		process.exit(1);
	});
}
