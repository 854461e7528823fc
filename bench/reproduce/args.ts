/** Command-line options of the reproduce driver (pure, unit-tested). */

/** The experiment sections, in run order. */
export const SECTIONS = ['theory', 'linear', 'cnn', 'defence'] as const;
/** One experiment section. */
export type Section = (typeof SECTIONS)[number];

/** Parsed options. */
export interface ReproduceArgs {
	readonly quick: boolean;
	readonly sections: Section[];
	/** Ignore finished points recorded on disk. */
	readonly fresh: boolean;
	readonly figures: boolean;
	/** Run no new points: aggregate, draw and report what the CSVs already hold. */
	readonly report: boolean;
	/** Seeds per point: 1 in quick mode, 3 in the full run, unless --seeds=N. */
	readonly seeds: number;
	/** CNN/defence: run only the points of this data set (null: all). */
	readonly dataset: string | null;
	/** Run only the pending points whose index modulo `count` is `index` (parallel workers). */
	readonly shard: { readonly index: number; readonly count: number } | null;
	/** Start no new point after this many seconds (a worker with a time limit); null: no limit. */
	readonly deadline: number | null;
	/** Results root instead of docs/results (a worker's own folder); the results page is then left alone. */
	readonly out: string | null;
	/** Result roots of finished workers whose rows are folded into this run's CSVs before it goes on. */
	readonly merge: string[];
}

const DATASETS = ['mnist', 'fashion-mnist'];

function truthy(v: string | undefined): boolean {
	return v !== undefined && v !== '' && v !== 'false' && v !== '0';
}

/**
 * Parses argv (after the script name). `npm run reproduce --quick` without `--` hands the flag to
 * npm, which exports npm_config_quick=true; that is accepted too.
 * @throws Error naming an unknown flag or section, or a bad seed count
 */
export function parseArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): ReproduceArgs {
	let quick = truthy(env.npm_config_quick);
	let fresh = truthy(env.npm_config_fresh);
	let figures = true;
	let report = false;
	let sections: Section[] = [...SECTIONS];
	let seeds: number | undefined;
	let dataset: string | null = null;
	let shard: { index: number; count: number } | null = null;
	let deadline: number | null = null;
	let out: string | null = null;
	const merge: string[] = [];
	for (const a of argv) {
		if (a === '--quick') {
			quick = true;
		} else if (a === '--full') {
			quick = false;
		} else if (a === '--fresh') {
			fresh = true;
		} else if (a === '--no-figures') {
			figures = false;
		} else if (a === '--report') {
			report = true;
		} else if (a.startsWith('--only=')) {
			const names = a.slice('--only='.length).split(',').filter((s) => s.length > 0);
			for (const n of names) {
				if (!(SECTIONS as readonly string[]).includes(n)) {
					throw new Error(`reproduce: unknown section '${n}' in ${a}; expected one of ${SECTIONS.join(', ')}`);
				}
			}
			sections = SECTIONS.filter((s) => names.includes(s));
		} else if (a.startsWith('--seeds=')) {
			const n = Number(a.slice('--seeds='.length));
			if (!Number.isInteger(n) || n < 1 || n > 20) {
				throw new Error(`reproduce: ${a}: the seed count must be an integer from 1 to 20`);
			}
			seeds = n;
		} else if (a.startsWith('--dataset=')) {
			dataset = a.slice('--dataset='.length);
			if (!DATASETS.includes(dataset)) {
				throw new Error(`reproduce: ${a}: expected one of ${DATASETS.join(', ')}`);
			}
		} else if (a.startsWith('--shard=')) {
			const m = /^(\d+)\/(\d+)$/.exec(a.slice('--shard='.length));
			const index = m === null ? NaN : Number(m[1]);
			const count = m === null ? NaN : Number(m[2]);
			if (!(count >= 1 && index < count)) {
				throw new Error(`reproduce: ${a}: expected --shard=I/N with 0 <= I < N`);
			}
			shard = { index, count };
		} else if (a.startsWith('--deadline=')) {
			const n = Number(a.slice('--deadline='.length));
			if (!(Number.isFinite(n) && n >= 0)) {
				throw new Error(`reproduce: ${a}: expected a number of seconds`);
			}
			deadline = n;
		} else if (a.startsWith('--out=')) {
			out = a.slice('--out='.length);
			if (out === '') {
				throw new Error('reproduce: --out= needs a folder');
			}
		} else if (a.startsWith('--merge=')) {
			merge.push(...a.slice('--merge='.length).split(',').filter((d) => d.length > 0));
		} else {
			throw new Error(`reproduce: unknown argument '${a}' (known: --quick, --full, --fresh, --no-figures, --report, --only=${SECTIONS.join(',')}, --seeds=N, --dataset=NAME, --shard=I/N, --deadline=S, --out=DIR, --merge=DIR[,DIR])`);
		}
	}
	if (report && fresh) {
		throw new Error('reproduce: --report reads the finished points, --fresh discards them; use one');
	}
	if (report && shard !== null) {
		throw new Error('reproduce: --shard splits the points to run, --report runs none; use one');
	}
	return { quick, sections, fresh, figures, report, seeds: seeds ?? (quick ? 1 : 3), dataset, shard, deadline, out, merge };
}
