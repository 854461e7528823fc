/**
 * Experiment 1: the KRR theory (docs/science.md §2), exact float64, from src/theory.
 * Deterministic and a few seconds long, so it is recomputed on every run (quick and full alike).
 */
import * as path from 'node:path';
import {
	appendixATable,
	capacitySweep,
	gaussianCleanSet,
	kernelComparison,
	logLogSlope,
	nearCloneSweep,
	regularisedPoisonSweep,
	rbfKernel,
	addClonedPoisons,
	type PoisonSweep,
} from '../../src/theory';
import { PALETTE, SERIES_COLOURS, type FigureSpec, lineChart } from './charts';
import { type OutDirs, writeCsv, writeJson } from './io';
import { type Row, isMonotone, logSpace } from './table';

/** What the theory section hands to the report. */
export interface TheoryResult {
	readonly summary: TheorySummary;
	readonly figures: FigureSpec[];
}

/** Headline numbers of the theory section (also written to theory_summary.json). */
export interface TheorySummary {
	/** max |Δf measured / Δf Theorem 3.3 − 1| over the Appendix A rows and the clone sweeps. */
	readonly maxShiftRelError: number;
	/** max |Λ measured / (R_k Δf²) − 1|. */
	readonly maxSpikeRelError: number;
	readonly spikeRatioLinear: number;
	readonly spikeRatioRbf: number;
	/** Near-clone: log-log slope of Λ_GN over r/ℓ (ℓ = 1, r/ℓ ≤ 0.1); the law says 2. */
	readonly nearCloneSlopeRadius: number;
	/** Log-log slope of Λ_GN over ℓ at fixed r; the law says −4. */
	readonly nearCloneSlopeLength: number;
	/** Δf at the smallest and largest r/ℓ ≤ 0.1 of the sweep, relative to S. */
	readonly nearCloneShiftOverGainMin: number;
	/** Efficacy needed to beat a curvature threshold Λ* = `visibilityThreshold`, i.e. the square root of Λ* over R_k. */
	readonly visibilityThreshold: number;
	readonly requiredShiftLinear: number;
	readonly requiredShiftRbf: number;
	readonly maxShiftLinear: number;
	readonly maxShiftRbf: number;
	readonly capacity: readonly { data: string; dfDecreasing: boolean; residualIncreasing: boolean; penalisedFitIncreasing: boolean; residualMinKappa: number }[];
	readonly regularised: readonly { augmentation: boolean; shiftAtZero: number; shiftAtMax: number; spikeAtZero: number; spikeAtMax: number; kappaMax: number }[];
}

const SWEEP_COLUMNS = ['kernel', 'parameter', 'gain', 'measuredShift', 'predictedShift', 'shiftRelError', 'measuredSpike', 'predictedSpike', 'spikeRelError', 'spikeRatio', 'spikeOverShiftSquared', 'cleanGaussNewton'];

function sweepRows(kernel: string, s: PoisonSweep): Row[] {
	return s.parameter.map((p, i) => ({
		kernel,
		parameter: p,
		gain: s.gain[i],
		measuredShift: s.measuredShift[i],
		predictedShift: s.predictedShift[i],
		shiftRelError: s.predictedShift[i] === 0 ? 0 : Math.abs(s.measuredShift[i] / s.predictedShift[i] - 1),
		measuredSpike: s.measuredSpike[i],
		predictedSpike: s.predictedSpike[i],
		spikeRelError: s.predictedSpike[i] === 0 ? 0 : Math.abs(s.measuredSpike[i] / s.predictedSpike[i] - 1),
		spikeRatio: s.spikeRatio[i],
		spikeOverShiftSquared: s.measuredShift[i] === 0 ? Number.NaN : s.measuredSpike[i] / s.measuredShift[i] ** 2,
		cleanGaussNewton: s.cleanGaussNewton[i],
	}));
}

function maxOf(rows: readonly Row[], c: string): number {
	return Math.max(...rows.map((r) => (typeof r[c] === 'number' ? r[c] : 0)));
}

type WriteCsv = (name: string, columns: readonly string[], rows: readonly Row[]) => void;

/** Appendix A rebuilt, and Δf and Λ_GN vs m, linear and RBF on the same geometry (ζ = 2e1, x0 = ζ + 0.1 e1, clean data ⊥ ζ). */
function cloneSection(write: WriteCsv, log: (m: string) => void): { appendix: ReturnType<typeof appendixATable>; cmp: ReturnType<typeof kernelComparison>; cloneRows: Row[] } {
	const appendix = appendixATable().map((r) => ({ ...r }));
	write('theory_appendix_a.csv', ['cloneCount', 'radius', 'measuredShift', 'predictedShift', 'poisonPartSpike', 'spikeFromMeasuredShift'], appendix);
	const cloneCounts = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
	const cmp = kernelComparison({ cloneCounts });
	const cloneRows = [...sweepRows('linear', cmp.linear), ...sweepRows('rbf', cmp.rbf)];
	write('theory_clones.csv', SWEEP_COLUMNS, cloneRows);
	log(`theory: clone sweep, R_k linear ${cmp.linear.spikeRatio[0].toPrecision(4)}, rbf ${cmp.rbf.spikeRatio[0].toPrecision(4)}`);
	return { appendix, cmp, cloneRows };
}

/** Near-clone: r/ℓ sweep at ℓ = 1, and ℓ sweep at fixed r (Appendix A geometry, m = 20), with their log-log slopes. */
function nearCloneSection(write: WriteCsv, log: (m: string) => void) {
	const clean = gaussianCleanSet();
	const zeta = new Float64Array(5);
	const radii = logSpace(-3, 0, 13);
	const near = nearCloneSweep({ kernel: rbfKernel({ lengthScale: 1 }), clean, trigger: zeta, targetLabel: 1, lambda: 1e-2, cloneCount: 20, relativeRadii: radii });
	const nearRows = sweepRows('rbf', near);
	write('theory_near_clone_radius.csv', SWEEP_COLUMNS, nearRows);
	const r0 = 0.05;
	const lengths = [0.5, 0.7, 1, 1.4, 2, 2.8, 4];
	const lengthRows: Row[] = [];
	for (const ell of lengths) {
		const s = nearCloneSweep({ kernel: rbfKernel({ lengthScale: ell }), clean, trigger: zeta, targetLabel: 1, lambda: 1e-2, cloneCount: 20, relativeRadii: [r0 / ell] });
		lengthRows.push({ ...sweepRows('rbf', s)[0], parameter: ell });
	}
	write('theory_near_clone_length.csv', SWEEP_COLUMNS, lengthRows);
	const small = near.parameter.map((p, i) => [p, near.measuredSpike[i], near.measuredShift[i] / near.gain[i]] as const).filter(([p]) => p <= 0.1 + 1e-12);
	const slopeR = logLogSlope(small.map((s) => s[0]), small.map((s) => s[1]));
	const slopeL = logLogSlope(lengths, lengthRows.map((r) => r.measuredSpike as number));
	log(`theory: near-clone slopes ${slopeR.toFixed(4)} (r), ${slopeL.toFixed(4)} (ℓ)`);

	return { near, nearRows, r0, lengths, lengthRows, small, slopeR, slopeL };
}

/** Capacity df(κ) and residual vs κ on three data sets. */
function capacitySection(write: WriteCsv) {
	const kappas = [0, ...logSpace(-3, 3, 13)];
	const capacitySets: { name: string; data: { inputs: Float64Array[]; targets: Float64Array }; lambda?: number; ridge?: number }[] = [];
	{
		const c = gaussianCleanSet({ seed: 12, count: 50, dimension: 3, mean: 0, standardDeviation: 2 });
		const p = addClonedPoisons({ inputs: c.inputs, targets: c.targets, trigger: Float64Array.of(0.5, 0.5, 0.5), cloneCount: 10, targetLabel: 1 });
		capacitySets.push({ name: 'poisoned RBF set (50 clean + 10 clones, d = 3)', data: { inputs: [...p.inputs], targets: p.targets }, lambda: 1e-2 });
		const c2 = gaussianCleanSet({ seed: 9, count: 40, dimension: 2, mean: 0, standardDeviation: 1.5 });
		capacitySets.push({ name: 'clean RBF set (40 points, d = 2)', data: { inputs: [...c2.inputs], targets: c2.targets }, lambda: 1e-2 });
		capacitySets.push({ name: 'counterexample (x = 0, 1, 2; y = 1; c = 0.05)', data: { inputs: [Float64Array.of(0), Float64Array.of(1), Float64Array.of(2)], targets: Float64Array.of(1, 1, 1) }, ridge: 0.05 });
	}
	const capRows: Row[] = [];
	const capSummary: { data: string; dfDecreasing: boolean; residualIncreasing: boolean; penalisedFitIncreasing: boolean; residualMinKappa: number }[] = [];
	for (const set of capacitySets) {
		const s = capacitySweep({ kernel: rbfKernel({ lengthScale: 1 }), data: set.data, kappas, lambda: set.lambda, ridge: set.ridge });
		s.kappa.forEach((k, i) => capRows.push({ data: set.name, kappa: k, degreesOfFreedom: s.degreesOfFreedom[i], trainingResidual: s.trainingResidual[i], penalisedFit: s.penalisedFit[i], gradientEnergy: s.gradientEnergy[i] }));
		let argmin = 0;
		s.trainingResidual.forEach((r, i) => {
			if (r < s.trainingResidual[argmin]) {
				argmin = i;
			}
		});
		capSummary.push({
			data: set.name,
			dfDecreasing: isMonotone(s.degreesOfFreedom, 'decreasing', true),
			residualIncreasing: isMonotone(s.trainingResidual, 'increasing', true),
			penalisedFitIncreasing: isMonotone(s.penalisedFit, 'increasing'),
			residualMinKappa: s.kappa[argmin],
		});
	}
	write('theory_capacity.csv', ['data', 'kappa', 'degreesOfFreedom', 'trainingResidual', 'penalisedFit', 'gradientEnergy'], capRows);

	return { capRows, capSummary, capNames: capacitySets.map((c) => c.name) };
}

/** Efficacy and spike of the regularised fit, penalty at the training points vs with augmented copies. */
function regularisedSection(write: WriteCsv) {
	const regClean = gaussianCleanSet({ count: 40 });
	const regKappas = [0, ...logSpace(-2, 2, 9)];
	const regRows: Row[] = [];
	const regSummary: TheorySummary['regularised'][number][] = [];
	for (const aug of [false, true]) {
		const s = regularisedPoisonSweep({
			kernel: rbfKernel({ lengthScale: 1 }),
			clean: regClean,
			trigger: new Float64Array(5),
			targetLabel: 1,
			lambda: 1e-2,
			testPoint: Float64Array.of(0.1, 0, 0, 0, 0),
			cloneCount: 20,
			kappas: regKappas,
			...(aug ? { augmentationCopies: 2, augmentationScale: 0.3 } : {}),
		});
		s.kappa.forEach((k, i) => regRows.push({ augmentation: aug, kappa: k, shift: s.shift[i], spike: s.spike[i], degreesOfFreedom: s.degreesOfFreedom[i] }));
		const last = s.kappa.length - 1;
		regSummary.push({ augmentation: aug, shiftAtZero: s.shift[0], shiftAtMax: s.shift[last], spikeAtZero: s.spike[0], spikeAtMax: s.spike[last], kappaMax: s.kappa[last] });
	}
	write('theory_regularised.csv', ['augmentation', 'kappa', 'shift', 'spike', 'degreesOfFreedom'], regRows);

	return { regRows, regSummary };
}

type CloneSection = ReturnType<typeof cloneSection>;
type NearSection = ReturnType<typeof nearCloneSection>;

/** The clone-sweep figures: Δf and Λ_GN vs m, and Λ_GN against Δf per kernel. */
function cloneFigures({ cmp }: CloneSection, summary: TheorySummary): FigureSpec[] {
	const figures: FigureSpec[] = [];
	const threshold = summary.visibilityThreshold;
	const rkLin = summary.spikeRatioLinear;
	const rkRbf = summary.spikeRatioRbf;
	figures.push(lineChart({
		title: 'KRR: efficacy Δf and Gauss–Newton spike Λ_GN vs clone count m',
		subtitle: `Λ_GN / Δf² = R_k: linear ${rkLin.toPrecision(3)}, RBF (r/ℓ = 0.1) ${rkRbf.toPrecision(3)}; markers = measured, lines = Theorems 3.3 / 3.4`,
		xTitle: 'clone count m',
		yTitle: 'Δf (efficacy)',
		rightTitle: 'Λ_GN (input-Hessian spike)',
		xLog: true,
		rightLog: true,
		series: [
			{ label: 'Δf linear (measured)', points: cmp.linear.parameter.map((m, i) => ({ x: m, y: cmp.linear.measuredShift[i] })), colour: PALETTE.blue, scatter: true },
			{ label: 'Δf linear (Thm 3.3)', points: cmp.linear.parameter.map((m, i) => ({ x: m, y: cmp.linear.predictedShift[i] })), colour: PALETTE.blue },
			{ label: 'Δf RBF (measured)', points: cmp.rbf.parameter.map((m, i) => ({ x: m, y: cmp.rbf.measuredShift[i] })), colour: PALETTE.red, scatter: true },
			{ label: 'Δf RBF (Thm 3.3)', points: cmp.rbf.parameter.map((m, i) => ({ x: m, y: cmp.rbf.predictedShift[i] })), colour: PALETTE.red },
			{ label: 'Λ_GN linear', points: cmp.linear.parameter.map((m, i) => ({ x: m, y: cmp.linear.measuredSpike[i] })), colour: PALETTE.blue, right: true, dash: true, pointStyle: 'triangle' },
			{ label: 'Λ_GN RBF', points: cmp.rbf.parameter.map((m, i) => ({ x: m, y: cmp.rbf.measuredSpike[i] })), colour: PALETTE.red, right: true, dash: true, pointStyle: 'triangle' },
		],
	}, 'theory_clones'));
	figures.push(lineChart({
		title: 'Linear vs RBF kernel: spike Λ_GN against efficacy Δf',
		subtitle: `same clones, m = 1…1000; a detector with threshold Λ* = ${threshold} needs Δf ≥ √(Λ*/R_k): linear ${summary.requiredShiftLinear.toPrecision(3)}, RBF ${summary.requiredShiftRbf.toPrecision(3)} (max Δf ${summary.maxShiftRbf.toPrecision(3)})`,
		xTitle: 'Δf (efficacy)',
		yTitle: 'Λ_GN',
		xLog: true,
		yLog: true,
		series: [
			{ label: 'linear kernel', points: cmp.linear.measuredShift.map((d, i) => ({ x: d, y: cmp.linear.measuredSpike[i] })), colour: PALETTE.blue },
			{ label: 'RBF kernel, r/ℓ = 0.1', points: cmp.rbf.measuredShift.map((d, i) => ({ x: d, y: cmp.rbf.measuredSpike[i] })), colour: PALETTE.red },
			{ label: `threshold Λ* = ${threshold}`, points: [{ x: Math.min(...cmp.rbf.measuredShift, ...cmp.linear.measuredShift), y: threshold }, { x: Math.max(...cmp.linear.measuredShift), y: threshold }], colour: PALETTE.grey, dash: true },
		],
	}, 'theory_kernels'));
	return figures;
}

/** The near-clone, capacity and regularisation figures. */
function sweepFigures({ near, r0 }: NearSection, slopes: { slopeR: number; slopeL: number }, capNames: readonly string[], capRows: readonly Row[], regRows: readonly Row[]): FigureSpec[] {
	const figures: FigureSpec[] = [];
	const { slopeR, slopeL } = slopes;
	figures.push(lineChart({
		title: 'Near-clone regime (RBF, m = 20): Δf flat, Λ_GN ∝ r²/ℓ⁴',
		subtitle: `log-log slope of Λ_GN over r/ℓ (r/ℓ ≤ 0.1): ${slopeR.toFixed(3)}; over ℓ at r = ${r0}: ${slopeL.toFixed(3)}`,
		xTitle: 'r/ℓ (distance of the triggered test point from the clones)',
		yTitle: 'Δf / S',
		rightTitle: 'Λ_GN',
		xLog: true,
		rightLog: true,
		yMin: 0,
		yMax: 1.05,
		series: [
			{ label: 'Δf / S (measured)', points: near.parameter.map((p, i) => ({ x: p, y: near.measuredShift[i] / near.gain[i] })), colour: PALETTE.red },
			{ label: 'Λ_GN (measured)', points: near.parameter.map((p, i) => ({ x: p, y: near.measuredSpike[i] })), colour: PALETTE.purple, right: true, scatter: true, pointStyle: 'triangle' },
			{ label: 'S²·(r/ℓ)²/ℓ² (law)', points: near.parameter.map((p, i) => ({ x: p, y: near.gain[i] ** 2 * p * p })), colour: PALETTE.purple, right: true, dash: true },
		],
	}, 'theory_near_clone'));
	figures.push(lineChart({
		title: 'Capacity under input-gradient regularisation: df(κ) and training residual',
		subtitle: 'df (solid, left) falls strictly on every set; the plain residual (dashed, right) need not rise',
		xTitle: 'κ (0 drawn at 1e-4)',
		yTitle: 'df(κ) = tr[K(K + nλI + κG)⁻¹]',
		rightTitle: '‖y − ŷ‖²',
		xLog: true,
		yLog: true,
		rightLog: true,
		series: capNames.flatMap((n, j) => {
			const rows = capRows.filter((r) => r.data === n);
			const x = (r: Row): number => ((r.kappa as number) === 0 ? 1e-4 : (r.kappa as number));
			return [
				{ label: `df: ${n}`, points: rows.map((r) => ({ x: x(r), y: r.degreesOfFreedom as number })), colour: SERIES_COLOURS[j] },
				{ label: `residual: ${n}`, points: rows.map((r) => ({ x: x(r), y: r.trainingResidual as number })), colour: SERIES_COLOURS[j], right: true, dash: true, pointStyle: 'triangle' as const },
			];
		}),
	}, 'theory_capacity', 860, 520));
	figures.push(lineChart({
		title: 'Regularised KRR: poison efficacy vs κ, penalty at training points vs augmented points',
		subtitle: 'RBF, 40 clean points, m = 20 clones, r = 0.1; augmentation = 2 jittered copies per point (sd 0.3) as penalty points',
		xTitle: 'κ (0 drawn at 1e-3)',
		yTitle: 'Δf (efficacy)',
		rightTitle: 'Λ_GN',
		xLog: true,
		rightLog: true,
		yMin: 0,
		series: [false, true].flatMap((aug, j) => {
			const rows = regRows.filter((r) => r.augmentation === aug);
			const x = (r: Row): number => ((r.kappa as number) === 0 ? 1e-3 : (r.kappa as number));
			const name = aug ? 'penalty + augmentation' : 'penalty only';
			return [
				{ label: `Δf, ${name}`, points: rows.map((r) => ({ x: x(r), y: r.shift as number })), colour: [PALETTE.blue, PALETTE.green][j] },
				{ label: `Λ_GN, ${name}`, points: rows.map((r) => ({ x: x(r), y: r.spike as number })), colour: [PALETTE.blue, PALETTE.green][j], right: true, dash: true, pointStyle: 'triangle' as const },
			];
		}),
	}, 'theory_regularised'));
	return figures;
}

/** Runs every theory sweep, writes theory_*.csv and theory_summary.json, returns the figures. */
export function runTheory(out: OutDirs, log: (m: string) => void): TheoryResult {
	const file = (n: string): string => path.join(out.dir, n);
	const write: WriteCsv = (name, columns, rows) => writeCsv(file(name), [...columns], rows);
	const clones = cloneSection(write, log);
	const nearSec = nearCloneSection(write, log);
	const { capRows, capSummary, capNames } = capacitySection(write);
	const { regRows, regSummary } = regularisedSection(write);
	const { appendix, cmp, cloneRows } = clones;
	const { nearRows, small, slopeR, slopeL } = nearSec;
	const threshold = 1e-2;
	const rkLin = cmp.linear.spikeRatio[0];
	const rkRbf = cmp.rbf.spikeRatio[0];
	const summary: TheorySummary = {
		maxShiftRelError: Math.max(maxOf(cloneRows, 'shiftRelError'), maxOf(nearRows, 'shiftRelError'), ...appendix.map((r) => Math.abs(r.measuredShift / r.predictedShift - 1))),
		maxSpikeRelError: Math.max(maxOf(cloneRows, 'spikeRelError'), maxOf(nearRows, 'spikeRelError'), ...appendix.map((r) => Math.abs(r.poisonPartSpike / r.spikeFromMeasuredShift - 1))),
		spikeRatioLinear: rkLin,
		spikeRatioRbf: rkRbf,
		nearCloneSlopeRadius: slopeR,
		nearCloneSlopeLength: slopeL,
		nearCloneShiftOverGainMin: Math.min(...small.map((s) => s[2])),
		visibilityThreshold: threshold,
		requiredShiftLinear: Math.sqrt(threshold / rkLin),
		requiredShiftRbf: Math.sqrt(threshold / rkRbf),
		maxShiftLinear: Math.max(...cmp.linear.measuredShift),
		maxShiftRbf: Math.max(...cmp.rbf.measuredShift),
		capacity: capSummary,
		regularised: regSummary,
	};
	writeJson(file('theory_summary.json'), summary);

	return { summary, figures: [...cloneFigures(clones, summary), ...sweepFigures(nearSec, { slopeR, slopeL }, capNames, capRows, regRows)] };
}
