/**
 * Regenerates the number tables in docs/results.md from the CSV/JSON a run wrote, between
 * `<!-- reproduce:<mode>-<section>:begin/end -->` markers; the hand-written paragraphs around them
 * are left alone.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Mode } from './io';
import { readCsvRows } from './io';
import { type Row, markdownTable, num, replaceBlock, sig } from './table';

type Block = (dir: string) => string | null;

function readJson(file: string): unknown {
	return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as unknown) : null;
}

const theoryBlock: Block = (dir) => {
	const appendix = readCsvRows(path.join(dir, 'theory_appendix_a.csv'));
	const clones = readCsvRows(path.join(dir, 'theory_clones.csv'));
	if (appendix.length === 0 || clones.length === 0) {
		return null;
	}
	const s = readJson(path.join(dir, 'theory_summary.json')) as Record<string, unknown> | null;
	const parts: string[] = [];
	parts.push('Appendix A rebuilt (RBF ℓ = 1, d = 5, λ = 1e-2):');
	parts.push(markdownTable(appendix, [
		['m', (r) => String(r.cloneCount)],
		['r', (r) => String(r.radius)],
		['Δf measured', (r) => num(r, 'measuredShift').toFixed(5)],
		['k0·y_t·S', (r) => num(r, 'predictedShift').toFixed(5)],
		['poison-part ‖∇f‖²', (r) => num(r, 'poisonPartSpike').toExponential(4)],
		['(r²/ℓ⁴)(Δf)²', (r) => num(r, 'spikeFromMeasuredShift').toExponential(4)],
	]));
	const pick = clones.filter((r) => [1, 10, 100, 1000].includes(num(r, 'parameter')));
	parts.push('');
	parts.push('Clone-count sweep (ζ = 2e1, x0 = ζ + 0.1e1, clean data ⊥ ζ):');
	parts.push(markdownTable(pick, [
		['kernel', (r) => String(r.kernel)],
		['m', (r) => String(r.parameter)],
		['Δf', (r) => sig(num(r, 'measuredShift'), 4)],
		['Λ_GN', (r) => sig(num(r, 'measuredSpike'), 4)],
		['Λ_GN/Δf²', (r) => sig(num(r, 'spikeOverShiftSquared'), 4)],
		['R_k', (r) => sig(num(r, 'spikeRatio'), 4)],
	]));
	if (s !== null) {
		const g = (k: string): number => (typeof s[k] === 'number' ? s[k] : Number.NaN);
		parts.push('');
		parts.push(`Max relative error, measured vs Theorem 3.3: ${sig(g('maxShiftRelError'), 2)}; vs Theorem 3.4: ${sig(g('maxSpikeRelError'), 2)}. `
			+ `Near-clone log-log slope of Λ_GN over r/ℓ: ${g('nearCloneSlopeRadius').toFixed(4)} (law: 2); over ℓ at fixed r: ${g('nearCloneSlopeLength').toFixed(4)} (law: −4); `
			+ `min Δf/S for r/ℓ ≤ 0.1: ${g('nearCloneShiftOverGainMin').toFixed(4)}. `
			+ `Efficacy needed to reach Λ* = ${g('visibilityThreshold')}: linear ${sig(g('requiredShiftLinear'), 3)}, RBF ${sig(g('requiredShiftRbf'), 3)} (largest Δf reached: linear ${sig(g('maxShiftLinear'), 3)}, RBF ${sig(g('maxShiftRbf'), 3)}).`);
		const cap = s.capacity as { data: string; dfDecreasing: boolean; residualIncreasing: boolean; penalisedFitIncreasing: boolean; residualMinKappa: number }[] | undefined;
		if (Array.isArray(cap)) {
			parts.push('');
			parts.push(markdownTable(cap, [
				['data set (κ ∈ {0} ∪ [1e-3, 1e3])', (r) => String(r.data)],
				['df strictly decreasing', (r) => (r.dfDecreasing === true ? 'yes' : 'no')],
				['residual strictly increasing', (r) => (r.residualIncreasing === true ? 'yes' : 'no')],
				['penalised fit non-decreasing', (r) => (r.penalisedFitIncreasing === true ? 'yes' : 'no')],
				['κ of the smallest residual', (r) => sig(num(r, 'residualMinKappa'), 3)],
			]));
		}
		const reg = s.regularised as Row[] | undefined;
		if (Array.isArray(reg)) {
			parts.push('');
			parts.push(markdownTable(reg, [
				['penalty points', (r) => (r.augmentation === true ? 'training + 2 jittered copies' : 'training points')],
				['Δf at κ = 0', (r) => sig(num(r, 'shiftAtZero'), 4)],
				['Δf at κ max', (r) => sig(num(r, 'shiftAtMax'), 4)],
				['Λ_GN at κ = 0', (r) => sig(num(r, 'spikeAtZero'), 4)],
				['Λ_GN at κ max', (r) => sig(num(r, 'spikeAtMax'), 4)],
				['κ max', (r) => sig(num(r, 'kappaMax'), 3)],
			]));
		}
	}
	return parts.join('\n');
};

/** "mean ± sd (min–max)" of an aggregated column; just the mean for one seed. */
function ms(r: Row, c: string, digits = 3): string {
	const n = num(r, 'seeds');
	const mean = sig(num(r, `${c}_mean`), digits);
	if (!(n > 1)) {
		return mean;
	}
	return `${mean} ± ${sig(num(r, `${c}_sd`), 2)}`;
}

const linearBlock: Block = (dir) => {
	const agg = readCsvRows(path.join(dir, 'linear_agg.csv'));
	if (agg.length === 0) {
		return null;
	}
	const seeds = Math.max(...agg.map((r) => num(r, 'seeds')));
	return `${seeds} seed(s) per point${seeds > 1 ? ' (mean ± sample sd)' : ''}; probes: the first 128 non-target test images, triggered.\n\n` + markdownTable(agg, [
		['model', (r) => String(r.model)],
		['θ', (r) => `${num(r, 'theta') * 100} %`],
		['clean acc', (r) => ms(r, 'cleanAccuracy', 4)],
		['ASR', (r) => ms(r, 'asr')],
		['p0', (r) => ms(r, 'p0', 2)],
		['excess ASR', (r) => ms(r, 'excessAsr')],
		['λ1 (trig.)', (r) => ms(r, 'lambda1Triggered')],
		['cos²(v1, t)', (r) => ms(r, 'overlapTriggered')],
		['cos² clean probes', (r) => ms(r, 'overlapClean', 2)],
		['tᵀHt/‖t‖²', (r) => ms(r, 'triggerCurvature')],
		['trigger-aligned λ (rank)', (r) => `${ms(r, 'alignedLambda')} (${sig(num(r, 'alignedRank_mean'), 2)})`],
		['per-probe cos²', (r) => ms(r, 'perSampleOverlapTriggered')],
	]);
};

/** The columns that name a CNN / defence point, first in both tables. */
const POINT_COLUMNS: readonly (readonly [string, (r: Row) => string])[] = [
		['data', (r) => String(r.dataset)],
		['attack', (r) => String(r.attack)],
		['θ', (r) => `${num(r, 'theta') * 100} %`],
		['κ', (r) => String(r.kappa)],
		['aug', (r) => (r.augment === true ? 'yes' : 'no')],
];

function runsTable(rows: readonly Row[]): string {
	return markdownTable(rows, [
		...POINT_COLUMNS,
		['seeds', (r) => String(r.seeds)],
		['clean acc', (r) => ms(r, 'cleanAccuracy')],
		['excess ASR', (r) => ms(r, 'excessAsr')],
		['λ1 (trig.)', (r) => ms(r, 'lambda1')],
		['cos²(v1, t)', (r) => ms(r, 'overlap')],
		['λ1/λ2', (r) => ms(r, 'gap', 2)],
		['tᵀHt/‖t‖² (init → final)', (r) => `${ms(r, 'triggerCurvatureInit', 2)} → ${ms(r, 'triggerCurvature')}`],
		['per-probe cos²', (r) => ms(r, 'perSampleOverlap')],
		['clean-probe cos²', (r) => ms(r, 'cleanOverlap', 2)],
	]);
}

function lagTable(rows: readonly Row[]): string {
	return markdownTable(rows, [
		...POINT_COLUMNS,
		['seed', (r) => String(r.seed)],
		['analyser: ASR step', (r) => sig(num(r, 'asrStep'), 4)],
		['analyser: spectral step', (r) => sig(num(r, 'spectralStep'), 4)],
		['analyser: signed lag (steps)', (r) => sig(num(r, 'lagSteps'), 4)],
		['verdict', (r) => `${String(r.verdict)}${typeof r.spectralSignal === 'string' ? ` (${r.spectralSignal})` : ''}`],
		['half-max: excess ASR step', (r) => sig(num(r, 'halfAsrStep'), 4)],
		['half-max lag, cos²', (r) => sig(num(r, 'halfLagOverlap'), 4)],
		['half-max lag, tᵀHt', (r) => sig(num(r, 'halfLagCurvature'), 4)],
		['steps/epoch', (r) => sig(num(r, 'steps') / num(r, 'epochs'), 4)],
	]);
}

function sectionBlock(section: 'cnn' | 'defence'): Block {
	return (dir) => {
		const agg = readCsvRows(path.join(dir, `${section}_agg.csv`));
		const runs = readCsvRows(path.join(dir, `${section}_runs.csv`));
		if (agg.length === 0) {
			return null;
		}
		const r0 = runs[0];
		const sizes = r0 === undefined ? '' : `${String(r0.trainRows)} training rows, ${String(r0.epochs)} epochs (${String(r0.steps)} steps). `;
		return `${sizes}Final model: clean accuracy and excess ASR on the whole test split; spectrum from the analyser's full pass at the last checkpoint (128 triggered probes).\n\n${runsTable(agg)}\n\nSigned lag per run (negative = the spectrum moved first; "half-max" = the step from which each curve stays above half of its rise from the first to the last checkpoint, docs/science.md §7's measure made robust to early spikes; the analyser's rule is docs/metrics.md's):\n\n${lagTable(runs)}`;
	};
}

/** Generated blocks by section name. */
export const BLOCKS: Record<string, Block> = { theory: theoryBlock, linear: linearBlock, cnn: sectionBlock('cnn'), defence: sectionBlock('defence') };

/** Registers a section's block generator. */
export function registerBlock(name: string, block: Block): void {
	BLOCKS[name] = block;
}

/**
 * Refreshes every `<mode>-<section>` block of the document whose section has results in `dir`.
 * @returns the new text and the names of the blocks replaced
 */
export function updateResultsDoc(doc: string, dir: string, mode: Mode): { text: string; blocks: string[] } {
	let text = doc;
	const blocks: string[] = [];
	for (const [name, make] of Object.entries(BLOCKS)) {
		const body = make(dir);
		if (body === null) {
			continue;
		}
		const r = replaceBlock(text, `${mode}-${name}`, `_Generated by \`npm run reproduce${mode === 'quick' ? ' -- --quick' : ''}\` from docs/results/${mode}/; do not edit by hand._\n\n${body}`);
		if (r.found) {
			text = r.text;
			blocks.push(`${mode}-${name}`);
		}
	}
	return { text, blocks };
}
