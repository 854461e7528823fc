/** docs/detection.md, generated from docs/detection/runs.csv (pure). */
import { aggregate, meanOf, type Aggregate, type RunDetectorRow } from './metrics';
import { median } from '../../src/analyser/analysis/robust';
import { ARCHITECTURES, ATTACKS, BENCH_ATTACKS, DEV_ARCHITECTURES, DEV_SEEDS, type GridPoint } from './grid';

export const DETECTORS = ['blind-mode', 'declared-rules', 'row-scores', 'spectral-signatures', 'activation-clustering', 'loss-isolation', 'strip'];

const f2 = (v: number | null): string => (v === null ? '–' : v.toFixed(2));
const frac = (x: { hits: number; of: number }): string => (x.of === 0 ? '–' : `${x.hits}/${x.of} (${((100 * x.hits) / x.of).toFixed(0)} %)`);

function table(rows: readonly RunDetectorRow[]): string[] {
	const out = [
		'| detector | runs | detection (attack works) | false alarms, clean | false alarms, attack failed | run AUC | row AUROC | row AUROC within target label | precision | recall | lead (epochs) | analysis s / run | training s / run |',
		'|---|---|---|---|---|---|---|---|---|---|---|---|---|',
	];
	for (const d of DETECTORS) {
		const r = rows.filter((x) => x.detector === d);
		if (r.length === 0) {
			continue;
		}
		const a = aggregate(r);
		out.push(
			`| ${d} | ${a.runs} | ${frac(a.detection)} | ${frac(a.falseAlarmClean)} | ${frac(a.falseAlarmFailed)} | ${f2(a.runAuc)} | ${f2(a.rowAuroc)} | ${f2(a.rowAurocTarget)} | ${f2(a.precision)} | ${f2(a.recall)} | ${f2(a.lead)} | ${f2(a.analysisSeconds)} | ${f2(a.trainSeconds)} |`,
		);
	}
	return out;
}

function byFactor(rows: readonly RunDetectorRow[], factor: 'attack' | 'arch', levels: readonly string[]): string[] {
	const present = levels.filter((l) => rows.some((r) => r[factor] === l));
	if (present.length === 0) {
		return ['(no runs yet)'];
	}
	const out = [`| detector | ${present.join(' | ')} |`, `|---|${present.map(() => '---').join('|')}|`];
	for (const d of DETECTORS) {
		const cells = present.map((l) => {
			const a: Aggregate = aggregate(rows.filter((r) => r.detector === d && r[factor] === l));
			const det = a.detection.of + a.falseAlarmClean.of === 0 ? '–' : `${a.detection.hits}/${a.detection.of} · FA ${a.falseAlarmClean.hits}/${a.falseAlarmClean.of}`;
			return `${det} · AUROC ${f2(a.rowAuroc)}`;
		});
		out.push(`| ${d} | ${cells.join(' | ')} |`);
	}
	return out;
}

/** The row-level goal's own scope: working backdoors whose trigger is a patch, blend, cross or bench-only one. */
export function inRowGoalScope(x: RunDetectorRow): boolean {
	return x.status === 'works' && x.attack !== 'near-clone' && x.attack !== 'warp';
}

/**
 * Mean row AUROC within the target label on the row-level goal's scope (working patch / blend / cross / bench-only
 * backdoors; near-clone is reported apart and warp is not in the goal's list), every detector on the same runs.
 */
export function scopedRowAuroc(r: readonly RunDetectorRow[]): string[] {
	const keys = new Set(r.filter((x) => x.detector === 'blind-mode' && inRowGoalScope(x) && x.rowAurocTarget !== null).map((x) => x.key));
	if (keys.size === 0) {
		return [];
	}
	const mean = (d: string): number | null => meanOf(r.filter((x) => x.detector === d && keys.has(x.key)).map((x) => x.rowAurocTarget));
	const ours = mean('blind-mode') ?? 0;
	const others = DETECTORS.filter((d) => d !== 'blind-mode' && d !== 'declared-rules').map((d) => ({ d, v: mean(d) })).filter((x): x is { d: string; v: number } => x.v !== null);
	const beat = others.filter((x) => x.v > ours);
	const below = r.filter((x) => x.detector === 'blind-mode' && keys.has(x.key) && (x.rowAurocTarget ?? 1) < 0.95).length;
	return [
		`**On the working backdoors with a patch, blend, cross or bench-only trigger** (${keys.size} runs; near-clone is counted apart, warp is not in this group), blind mode ranks the poisoned rows within the target label at a mean row AUROC of **${f2(ours)}** (goal 0.95; ${below} of the ${keys.size} runs below 0.95); on the same runs ` +
			others.map((x) => `${x.d} ${f2(x.v)}`).join(', ') +
			'.' +
			(beat.length > 0 ? ` **Better than blind mode here: ${beat.map((x) => x.d).join(', ')}.**` : ' No baseline is above blind mode here.'),
		'',
	];
}

function findings(rows: readonly RunDetectorRow[], split: string): string[] {
	const r = rows.filter((x) => x.split === split);
	if (r.length === 0) {
		return [`No ${split} run has finished yet.`];
	}
	const out: string[] = [];
	const agg = (d: string, filter: (x: RunDetectorRow) => boolean = () => true): Aggregate => aggregate(r.filter((x) => x.detector === d && filter(x)));
	const blind = agg('blind-mode');
	out.push(
		`**Blind mode's false-alarm rate on clean runs (${split}) is ${frac(blind.falseAlarmClean)}**; on runs whose attack failed it is ${frac(blind.falseAlarmFailed)}; it detects ${frac(blind.detection)} of the runs whose attack works ` +
			`(${frac(agg('blind-mode', (x) => x.attack !== 'near-clone').detection)} without near-clone attacks; near-clone: ${frac(agg('blind-mode', (x) => x.attack === 'near-clone').detection)}). ` +
			'Its alarm is the verdict `visible`: for runs measured by the current analysers, the blind test\'s `alarm` state (docs/metrics.md §4.1); its run score is the candidate\'s flip rate.',
	);
	const declared = agg('declared-rules');
	out.push(
		`The declared-trigger rules (rank-one spike or relative trigger curvature, with the trigger declared) fire on ${frac(declared.falseAlarmClean)} clean controls (tested against a trigger they were never trained with), ${frac(declared.falseAlarmFailed)} failed attacks and ${frac(declared.detection)} working attacks.`,
	);
	const ours = Math.max(...['blind-mode', 'row-scores'].map((d) => agg(d).rowAurocTarget ?? -1));
	const beat: string[] = [];
	const notBeat: string[] = [];
	for (const d of ['spectral-signatures', 'activation-clustering', 'loss-isolation', 'strip']) {
		const a = agg(d);
		if (a.rowAurocTarget === null || ours < 0) {
			continue;
		}
		(a.rowAurocTarget > ours ? beat : notBeat).push(`${d} ${f2(a.rowAurocTarget)}`);
	}
	if (beat.length + notBeat.length > 0) {
		out.push(
			`Ranking poisoned rows within the target label, our best row score (blind mode's suspects or the input-gradient row scores) reaches a mean AUROC of ${f2(ours)}. ` +
				(beat.length > 0 ? `**A baseline beats us here: ${beat.join(', ')}.** ` : '') +
				(notBeat.length > 0 ? `Not above ours: ${notBeat.join(', ')}.` : ''),
		);
	}
	out.push(...scopedRowAuroc(r));
	const runAucs = DETECTORS.map((d) => ({ d, a: agg(d) })).filter((x) => x.a.runAuc !== null);
	if (runAucs.length > 0) {
		const best = runAucs.reduce((p, q) => ((q.a.runAuc ?? 0) > (p.a.runAuc ?? 0) ? q : p));
		out.push(
			`As a run-level score (working attacks vs clean controls), ${best.d} separates best (ROC AUC ${f2(best.a.runAuc)}); ` +
				runAucs.filter((x) => x !== best).map((x) => `${x.d} ${f2(x.a.runAuc)}`).join(', ') +
				'. The baselines\' own run alarms are a-priori rules, so their false-alarm rates above are what an uncalibrated user would see.',
		);
	}
	const poisoned = [...new Set(r.filter((x) => x.status !== 'clean').map((x) => x.key))].map((k) => r.find((x) => x.key === k) as RunDetectorRow);
	if (poisoned.length > 0) {
		const works = poisoned.filter((x) => x.status === 'works');
		const failedAttacks = [...new Set(poisoned.filter((x) => x.status === 'failed').map((x) => x.attack))];
		out.push(
			`${works.length} of ${poisoned.length} poisoned runs formed a working backdoor (final excess ASR ≥ 0.5)` +
				(failedAttacks.length > 0 ? `; attacks that failed at least once: ${failedAttacks.join(', ')}.` : '.'),
		);
	}
	const cost = DETECTORS.map((d) => `${d} ${f2(agg(d).analysisSeconds)} s`).join(', ');
	out.push(`Cost per run (mean wall-clock seconds on the shared 2-core machine; training ${f2(blind.trainSeconds)} s): ${cost}.`);
	return out.flatMap((p) => [p, '']);
}

/**
 * Which analyser measured the runs (the commit stamped into each run's record): runs without a stamp were analysed
 * before the calibrated blind test and the whole-set cascade, so their blind-mode rows measure the old rule.
 */
export function analyserParagraph(runs: readonly RunDetectorRow[], analysers: ReadonlyMap<string, { analyser: string; analysedAt: string }>): string {
	const by = new Map<string, { n: number; dev: number; held: number; dates: Set<string> }>();
	for (const r of runs) {
		const a = analysers.get(r.key);
		const name = a === undefined || a.analyser === '' ? '' : a.analyser;
		const e = by.get(name) ?? { n: 0, dev: 0, held: 0, dates: new Set<string>() };
		e.n++;
		if (r.split === 'dev') {
			e.dev++;
		} else {
			e.held++;
		}
		if (a?.analysedAt) {
			e.dates.add(a.analysedAt);
		}
		by.set(name, e);
	}
	const parts = [...by.entries()]
		.sort((x, y) => y[1].n - x[1].n)
		.map(([name, e]) =>
			name === ''
				? `${e.n} runs (dev ${e.dev}, held-out ${e.held}) by the analyser as it was before the calibrated blind test and the whole-set cascade: their blind-mode rows measure the old rule (verdict \`visible\` when the candidate flips ≥ 20 % of clean probes; suspects ranked by cos²)`
				: `${e.n} runs (dev ${e.dev}, held-out ${e.held}) by the analyser at commit \`${name}\`${e.dates.size > 0 ? ` (${[...e.dates].sort().join(', ')})` : ''}`,
		);
	return `Which analyser measured the runs (the commit recorded with each run in runs.jsonl; kept run folders are re-analysed with \`--reanalyse\`): ${parts.join('; ')}.`;
}

/**
 * The analyser commits that measure blind mode's current rule (the curvature null band with its margin, and the
 * class-shortcut test, both frozen on the dev split on 2026-12-07): the tables use only runs they measured. A commit
 * is added here only when its blind test is the same rule (cb70c59: the seed as one constant and alarmBy read back, no decision changed; it replays the live alarms;
 * bc64add: worker threads for the shortcut test and stage 3 and a faster Gram matrix, every row score identical on 4 re-scanned grid runs, and the
 * dev-chosen suspect cut 2, which moves suspects only; it runs the held-out split's extra clean controls).
 */
export const CURRENT_RULE_ANALYSERS: readonly string[] = ['5d6127a', '92dea47', 'e664fb4', '8700534', '58b2af8', '5a8bcff', 'cb70c59', 'bc64add'];

/** One replayed run as bench/detect/lead.ts writes it to lead.jsonl (the fields the page reads). */
export interface LeadLine {
	readonly key: string;
	readonly split: string;
	readonly attack: string;
	readonly status: 'clean' | 'works' | 'failed';
	readonly scans: readonly { readonly epoch: number; readonly state: string }[];
	readonly firstAlarmEpoch: number | null;
	readonly leadEpochs: number | null;
	readonly missingScans: number;
	readonly analyser: string;
	readonly share?: number;
}

/** The median, or null for none (robust.ts's median is NaN for none). */
function medianOrNull(xs: readonly number[]): number | null {
	return xs.length === 0 ? null : median(xs);
}

/**
 * The live alarm's section (pure): per split and attack, how many replayed runs alarmed during training (any live
 * scan in state `alarm`), and for working attacks the lead of the first alarm over the half-ASR epoch.
 */
export function leadSection(lines: readonly LeadLine[], currentRule: readonly string[] = CURRENT_RULE_ANALYSERS): string[] {
	const L: string[] = ['## 6. Live blind alarm: lead time (replayed training)', ''];
	const used = lines.filter((l) => currentRule.includes(l.analyser));
	if (used.length === 0) {
		L.push('No run has been replayed by the current rule yet (`node --import tsx bench/detect/lead.ts --keep=KEEP --split=held-out --out=DIR`, then append DIR/lead.jsonl to docs/detection/lead.jsonl).', '');
		return L;
	}
	const shares = [...new Set(used.map((l) => l.share ?? 0.25))].sort();
	L.push(
		`Each kept run folder (blind copy) is replayed into \`poison-lens analyse --follow\` one checkpoint at a time, with live blind monitoring as shipped (one scan per epoch, time-boxed to ${shares.map((x) => x.toString()).join(' or ')} of the epoch time the run's own events measured); training waits for each scan, so no scan is dropped as stale, but a scan past twice its box is dropped as in real use ("missing"). A live alarm is any scan in state \`alarm\`; lead = first live alarm − the epoch where excess ASR reached half its final value (negative: warned before the attack worked). ${used.length} runs replayed by the current rule's analysers; ${lines.length - used.length} by earlier ones are left out.`,
		'',
		'| split | attack | runs | live alarm (clean: false alarm) | first alarm epoch (median) | lead, epochs (median; min…max) | scans missing |',
		'|---|---|---|---|---|---|---|',
	);
	for (const split of ['dev', 'held-out']) {
		const bySplit = used.filter((l) => l.split === split);
		const attacks = [...new Set(bySplit.map((l) => `${l.attack}|${l.status}`))].sort();
		for (const a of attacks) {
			const [attack, status] = a.split('|');
			const g = bySplit.filter((l) => l.attack === attack && l.status === status);
			const alarmed = g.filter((l) => l.firstAlarmEpoch !== null);
			const leads = g.map((l) => l.leadEpochs).filter((x): x is number => x !== null);
			const first = medianOrNull(alarmed.map((l) => l.firstAlarmEpoch as number));
			const med = medianOrNull(leads);
			const scans = g.reduce((n, l) => n + l.scans.length + l.missingScans, 0);
			const missing = g.reduce((n, l) => n + l.missingScans, 0);
			L.push(
				`| ${split} | ${attack} (${status}) | ${g.length} | ${alarmed.length}/${g.length} | ${first === null ? '–' : first.toFixed(1)} | ${med === null ? '–' : `${med.toFixed(1)}; ${Math.min(...leads).toFixed(1)}…${Math.max(...leads).toFixed(1)}`} | ${missing}/${scans} |`,
			);
		}
	}
	L.push('');
	return L;
}

/** The whole page. */
export function renderPage(
	rows: readonly RunDetectorRow[],
	grid: readonly GridPoint[],
	errors: readonly { key: string; error: string }[] = [],
	analysers: ReadonlyMap<string, { analyser: string; analysedAt: string }> = new Map(),
	currentRule: readonly string[] = CURRENT_RULE_ANALYSERS,
	lead: readonly LeadLine[] = [],
	cutTables: Readonly<Partial<Record<'dev' | 'held-out', string>>> = {},
): string {
	const keys = new Set(rows.map((r) => r.key));
	const runs = [...keys].map((k) => rows.find((r) => r.key === k) as RunDetectorRow);
	const count = (s: string, st?: string): number => runs.filter((r) => r.split === s && (st === undefined || r.status === st)).length;
	const gridCount = (s: string): number => grid.filter((p) => p.split === s).length;
	const gridKeys = new Set(grid.map((p) => p.key));
	const inDesign = runs.filter((r) => gridKeys.has(r.key)).length;
	const extra = runs.length - inDesign;
	const L: string[] = [];
	L.push('# Detection benchmark: every detector on the same runs, dev and held-out', '');
	L.push('_Generated by `npm run bench:detect` from `docs/detection/runs.csv` (one row per run × detector) and `docs/detection/runs.jsonl` (per run: the ASR timeline, verdicts). Do not edit by hand._', '');
	L.push('## 1. Splits (fixed before any held-out number existed)', '');
	L.push(
		`- **dev** (thresholds may be chosen here): architectures ${DEV_ARCHITECTURES.join(', ')}; seed ${DEV_SEEDS.join(', ')}; the SDK's attacks (badnets, cross, blend, warp, near-clone) and clean controls.`,
		`- **held-out** (final numbers only): everything else — seeds 1 and 2, the bench-only attacks (${BENCH_ATTACKS.join(', ')}) at any seed, and the architectures ${ARCHITECTURES.filter((a) => !DEV_ARCHITECTURES.includes(a)).join(', ')} (in no dev run).`,
		'- No threshold of any detector was moved after a held-out number was seen. The baselines\' run-level alarms and cuts are a-priori choices written in their source files (src/analyser/detectors/*.ts); blind mode and the declared-trigger rules are the product as it stands (docs/metrics.md).',
		'- **Blind mode\'s rule was frozen on 2026-12-07 on the dev split, in two steps.** First the curvature test (docs/detection/dev-calibration.csv, `node --import tsx bench/detect/calibrate.ts --keep=DIR`; docs/metrics.md §4.1): alarm when the candidate\'s flip rate exceeds its own null band\'s top by more than 0.15, the random direction as the only firing control, suspects only on an alarm, at the row cut 3.5, and without an alarm every row scored by stage 1 alone; 50 held-out runs were then analysed by that rule (its figures are in docs/metrics.md §4.1). That rule detected 6 of 22 working held-out backdoors, so a second test was designed on the dev split only: the class-shortcut test (docs/detection/dev-shortcut.csv, `node --import tsx bench/detect/shortcut.ts --keep=DIR`): alarm also when the universal perturbation of RMS size 0.05 toward one class reaches at least 23 points more of the clean probes than toward any other class. Its constants were read off dev runs alone; the held-out runs were analysed again, by the analyser commit named in §3, only after it was frozen.',
		'',
	);
	L.push('## 2. Detectors', '');
	L.push(
		'All run on the same runs, on the run\'s recorded 2 048-row training sample (as trained, poisons included) and its checkpoints (every half epoch). None reads the bench\'s truth: the blind run folder has no declaration and no trigger file (asserted per run); the declared copy names the trigger but no poisoned rows or fraction (asserted).',
		'',
		'| detector | where | row score | own cut | run score / alarm |',
		'|---|---|---|---|---|',
		'| blind-mode | `poison-lens analyse` (undeclared), docs/metrics.md §4 | every row\'s suspicion score (blind/row-scores.csv); runs analysed before the whole-set cascade: suspects ranked by cos² to the candidate trigger, others 0 | the suspects | candidate flip rate; alarm = verdict `visible` (since the blind test: only on its `alarm` state) |',
		'| declared-rules | `poison-lens analyse --no-blind` on the copy with the trigger declared, docs/metrics.md §2 | – | – | max over checkpoints of min(cos²/0.3, (λ1/λ2)/5); alarm = a spectral step exists (rule 2.1 or 2.2 persisted) |',
		'| row-scores | spectral signature of input gradients (src/analyser/analysis/signature.ts, the `dataset/rowScores` method), all rows kept | signed distance along the best direction | the flagged group | best class separation; alarm = any row flagged |',
		'| spectral-signatures | src/analyser/detectors/spectralSignatures.ts (Tran et al. 2018) | squared projection on the top singular vector of the label\'s centred penultimate representations | top 1.5·ε per label, ε = 0.05 fixed | max over labels of σ1²/σ2²; alarm ≥ 3 |',
		'| activation-clustering | src/analyser/detectors/activationClustering.ts (Chen et al. 2018) | (1 − 2·relative size)·silhouette for the smaller of two 2-means clusters (PCA to 10 dims) | smaller cluster when its relative size ≤ 0.35 | largest such value; alarm = a flagged label with silhouette ≥ 0.15 |',
		'| loss-isolation | src/analyser/detectors/lossIsolation.ts (ABL, Li et al. 2021) | −(mean cross-entropy over the first epoch\'s checkpoints) | lowest-loss 1 % | label concentration of the isolated 1 %; alarm ≥ 0.5 |',
		'| strip | src/analyser/detectors/strip.ts (Gao et al. 2019) | −(mean entropy over 20 superimpositions with probe images) | entropy below μ − 2.33σ of the probes\' own (FRR 1 %) | largest share of a label below the cut; alarm > 0.05 |',
		'',
	);
	L.push('## 3. What ran', '');
	L.push(
		`Grid: ${grid.length} runs (${grid.filter((p) => p.attack === null).length} clean controls), ${gridCount('dev')} dev and ${gridCount('held-out')} held-out (bench/detect/grid.ts: every level of every factor, not every combination; a clean control for every architecture × dataset × optimiser and for every cell). Finished so far: **${runs.length}** — dev ${count('dev')} (${count('dev', 'clean')} clean, ${count('dev', 'works')} attack works, ${count('dev', 'failed')} attack failed), held-out ${count('held-out')} (${count('held-out', 'clean')} clean, ${count('held-out', 'works')} works, ${count('held-out', 'failed')} failed).${extra > 0 ? ` Of these, ${extra} are outside the design: runs of an earlier, larger design of the same grid and the held-out split's extra clean controls (grid.ts \`extraCleanControls\`; same keys, same split rule); they are kept in the tables.` : ''}`,
		'',
		inDesign < grid.length
			? `**The grid is not complete (${inDesign} of its ${grid.length} runs).** The full driver runs it in a fixed seeded random order, so the finished runs are a uniform random subset of it (plus the quick subset); every table below is partial and small-sample, and says how many runs it rests on.`
			: 'The grid is complete.',
		'',
		...(errors.length === 0
			? []
			: [`Runs that failed and have no result yet (docs/detection/errors.jsonl; a failed run is not retried until its line is removed): ${errors.map((e) => `\`${e.key}\` (${e.error.slice(0, 140)})`).join('; ')}.`, '']),
		analyserParagraph(runs, analysers),
		'',
		'"Attack works" = final excess ASR (ASR − p0 on 1 000 held-out test rows, measured by the bench at every checkpoint) ≥ 0.5. Row AUROC is over the run\'s 2 048-row training sample against the bench\'s record of poisoned rows; "within target label" restricts it to rows trained with the target label (anything that flags the target label gets a high overall AUROC). Lead = first alarm epoch − epoch where excess ASR first reached half its final value (negative = warned early; blind mode, STRIP and the row scores run once per run, on the newest checkpoint). Analysis seconds are wall-clock on a 2-core machine shared with other jobs: noisy.',
		'',
	);
	// One rule per table: once runs carry the commit that measured them, runs measured by an earlier rule stay out.
	const current = (k: string): boolean => currentRule.includes(analysers.get(k)?.analyser ?? '');
	const tableRows = analysers.size > 0 ? rows.filter((x) => current(x.key)) : rows;
	const left = runs.filter((x) => !current(x.key)).length;
	if (analysers.size > 0 && left > 0) {
		L.push(
			`The tables below leave out the ${left} runs not yet measured by blind mode's current rule (analyser ${currentRule.map((c) => `\`${c}\``).join(' or ')}; their rows measured an earlier rule: a kept folder is re-analysed with \`--reanalyse\`, the others must be retrained): they rest on the ${runs.length - left} runs that were.`,
			'',
		);
	}
	for (const split of ['dev', 'held-out']) {
		const r = tableRows.filter((x) => x.split === split);
		L.push(`## ${split === 'dev' ? 4 : 5}. ${split} split${split === 'held-out' ? ' (final numbers; nothing was tuned on these)' : ''}`, '');
		L.push(...table(r), '');
		L.push(`### By attack (${split}; detection on working attacks · false alarms on clean controls · mean row AUROC)`, '');
		L.push(...byFactor(r, 'attack', ['none', ...ATTACKS]), '');
		L.push(`### By architecture (${split})`, '');
		L.push(...byFactor(r, 'arch', ARCHITECTURES), '');
		L.push(`### Findings (${split})`, '');
		L.push(...findings(tableRows, split), '');
		const cut = cutTables[split as 'dev' | 'held-out'];
		if (cut !== undefined) {
			L.push(
				split === 'dev'
					? `**Suspect cut** (docs/metrics.md §4.2; \`node --import tsx bench/detect/cut.ts --keep=KEEP\`): each alarmed run's suspects at every candidate cut, from its kept row scores; the rule takes the lowest cut whose pooled precision is at least 0.9.`
					: `**Suspect cut on the held-out split** (only the a-priori cut and the dev-chosen one evaluated; \`bench/detect/cut.ts --split=held-out\`):`,
				'',
				...cut.split('\n').filter((l) => l.startsWith('|') || l.startsWith('rule:')),
				'',
			);
		}
	}
	L.push(...leadSection(lead, currentRule));
	L.push('## 7. How to run', '');
	L.push(
		'```',
		'npm run bench:detect -- --quick                      # the 9-run quick subset (same keys as the full grid; add --fresh --out=DIR to redo it elsewhere)',
		'npm run bench:detect                                 # the full grid, resumable: finished keys in runs.csv are skipped',
		'node --import tsx bench/detect/main.ts --full --shard=I/N --out=DIR --deadline=S   # a worker (no page)',
		'node --import tsx bench/detect/main.ts --report --merge=DIR1,DIR2                  # fold workers in, regenerate this page',
		'',
		'# how the runs measured by the current analysers were made (kept folders, one split at a time):',
		'node --import tsx bench/detect/main.ts --full --split=dev --shard=I/N --out=DIR --keep=KEEP      # dev runs, trained and analysed',
		'node --import tsx bench/detect/calibrate.ts --keep=KEEP                                        # the dev evidence behind blind mode\'s rule',
		'node --import tsx bench/detect/cut.ts --keep=KEEP --csv=docs/detection/dev-cut.csv > docs/detection/dev-cut.txt   # the suspect cut, chosen on dev',
		'node --import tsx bench/detect/main.ts --full --split=held-out --train-only --shard=I/N --out=DIR --keep=KEEP   # held-out runs, trained only',
		'node --import tsx bench/detect/main.ts --reanalyse=KEEP --split=held-out --shard=I/N --out=DIR  # analysed after the freeze',
		'node --import tsx bench/detect/main.ts --extra-clean --shard=I/N --out=DIR --keep=KEEP              # more held-out clean controls (grid.ts extraCleanControls)',
		'node --import tsx bench/detect/main.ts --report --merge-replace=DIR1,DIR2                        # their rows replace older ones',
		'node --import tsx bench/detect/lead.ts --keep=KEEP --split=held-out --shard=I/N --out=DIR          # live alarms, replayed; append DIR/lead.jsonl to docs/detection/lead.jsonl',
		'```',
		'',
		'The full grid runs in a fixed seeded random order, so a partial run is a uniform sample of it. Each run: training in a child process through the SDK (tfjs wasm), `poison-lens analyse` twice (blind and declared copies), the baseline detectors in a child process; the run folders are deleted afterwards unless `--keep=DIR` keeps them for re-analysis (CSV and JSONL keep the results). `--pause-file=FILE` makes a worker wait between runs while FILE exists (to free the cores for a timing). Runs that fail are listed in docs/detection/errors.jsonl.',
		'',
	);
	return `${L.join('\n')}\n`;
}
