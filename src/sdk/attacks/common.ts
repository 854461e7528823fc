/**
 * Shared pieces of the attack generators: inputs, outputs and the seeded choice of rows to poison.
 * Pure typed-array code (no tfjs), so generators run before any backend is set up.
 */
import { applyTrigger } from '../../protocol/trigger';
import { mulberry32 } from '../../math/random';
import type { TriggerSpec } from '../../protocol/trigger';
import type { AttackKind } from '../../protocol/runFormat';

/** A labelled image data set as float32 NHWC in [0, 1]. */
export interface LabelledImages {
	/** `count · H·W·C` values. */
	readonly images: Float32Array;
	readonly labels: Int32Array;
	/** `[H, W, C]`. */
	readonly itemShape: readonly number[];
}

/** Options every generator takes. */
export interface AttackOptions {
	/** Poison fraction θ of the whole training set, in [0, 1]. */
	readonly fraction: number;
	/** The label poisoned rows get and triggered inputs should be classified as. */
	readonly targetLabel: number;
	/** Classes whose rows may be poisoned (default: every class except the target). */
	readonly sourceClasses?: readonly number[];
	/** Seed for the row choice and any random trigger parts. Default 0. */
	readonly seed?: number;
}

/** What the SDK records about an attack (see `AttackHypothesis` in the run format). */
export interface AttackDeclaration {
	readonly kind: AttackKind;
	readonly targetLabel: number;
	readonly sourceClasses: readonly number[];
	readonly description: string;
	readonly trigger?: TriggerSpec;
	readonly poisonFraction?: number;
	readonly poisonedRows?: readonly number[];
	readonly seed?: number;
	readonly params?: Readonly<Record<string, number | string | boolean>>;
}

/** A generator's result. */
export interface PoisonedDataset extends LabelledImages {
	/** Rows that were poisoned (ascending). */
	readonly poisonIndices: Int32Array;
	/** The trigger as data (stored in the run folder by the SDK). */
	readonly spec: TriggerSpec;
	/**
	 * Applies the trigger to items stored back to back (e.g. held-out inputs, for the attack success rate).
	 * @param firstIndex index of the first item; only the near-clone trigger uses it
	 */
	readonly trigger: (items: Float32Array, firstIndex?: number) => Float32Array;
	/** Pass as `attack` to `PoisonLens.start`. */
	readonly declaration: AttackDeclaration;
}

/** Validates common options and resolves defaults. @throws Error naming the bad option and value */
export function resolveOptions(data: LabelledImages, opts: AttackOptions): { sourceClasses: number[]; seed: number; numClasses: number } {
	const n = data.labels.length;
	const per = data.itemShape.reduce((a, b) => a * b, 1);
	if (data.images.length !== n * per) {
		throw new Error(`attack: ${data.images.length} image values for ${n} labels of shape ${JSON.stringify(data.itemShape)}`);
	}
	if (!(opts.fraction >= 0 && opts.fraction <= 1)) {
		throw new Error(`attack: fraction must be in [0, 1], got ${opts.fraction}`);
	}
	let maxLabel = 0;
	for (const l of data.labels) {
		maxLabel = Math.max(maxLabel, l);
	}
	const numClasses = Math.max(maxLabel, opts.targetLabel) + 1;
	if (!Number.isInteger(opts.targetLabel) || opts.targetLabel < 0) {
		throw new Error(`attack: targetLabel must be a non-negative integer, got ${opts.targetLabel}`);
	}
	const sourceClasses =
		opts.sourceClasses === undefined
			? Array.from({ length: numClasses }, (_, c) => c).filter((c) => c !== opts.targetLabel)
			: [...opts.sourceClasses];
	if (sourceClasses.includes(opts.targetLabel)) {
		throw new Error(`attack: sourceClasses ${JSON.stringify(sourceClasses)} must not contain the target ${opts.targetLabel}`);
	}
	return { sourceClasses, seed: opts.seed ?? 0, numClasses };
}

/**
 * Picks `round(θ·N)` rows among the source classes with a seeded shuffle (fewer if the source classes are small).
 * @returns ascending row indices
 */
export function choosePoisonRows(labels: Int32Array, fraction: number, sourceClasses: readonly number[], seed: number): Int32Array {
	const wanted = Math.round(fraction * labels.length);
	const allowed = new Set(sourceClasses);
	const candidates: number[] = [];
	labels.forEach((l, i) => {
		if (allowed.has(l)) {
			candidates.push(i);
		}
	});
	const k = Math.min(wanted, candidates.length);
	const rand = mulberry32(seed);
	for (let i = 0; i < k; i++) {
		const j = i + Math.floor(rand() * (candidates.length - i));
		const t = candidates[i];
		candidates[i] = candidates[j];
		candidates[j] = t;
	}
	return Int32Array.from(candidates.slice(0, k)).sort();
}

/**
 * Builds a poisoned copy: the chosen rows get the trigger and the target label; nothing else changes.
 * @param poisonSpec the trigger applied to training rows when it must differ from the evaluation trigger (near-clone
 * draws poisons and triggered test inputs from separate seeded streams so that no test input is an exact copy)
 */
export function poisonWith(
	data: LabelledImages,
	opts: AttackOptions,
	kind: AttackKind,
	spec: TriggerSpec,
	description: string,
	params: Record<string, number | string | boolean>,
	poisonSpec: TriggerSpec = spec,
): PoisonedDataset {
	const { sourceClasses, seed } = resolveOptions(data, opts);
	const rows = choosePoisonRows(data.labels, opts.fraction, sourceClasses, seed);
	const per = data.itemShape.reduce((a, b) => a * b, 1);
	const images = Float32Array.from(data.images);
	const labels = Int32Array.from(data.labels);
	for (const r of rows) {
		const triggered = applyTrigger(poisonSpec, data.itemShape, data.images.subarray(r * per, (r + 1) * per), r);
		images.set(triggered, r * per);
		labels[r] = opts.targetLabel;
	}
	const trigger = (items: Float32Array, firstIndex = 0): Float32Array => applyTrigger(spec, data.itemShape, items, firstIndex);
	return {
		images,
		labels,
		itemShape: data.itemShape,
		poisonIndices: rows,
		spec,
		trigger,
		declaration: {
			kind,
			targetLabel: opts.targetLabel,
			sourceClasses,
			description,
			trigger: spec,
			poisonFraction: opts.fraction,
			poisonedRows: Array.from(rows),
			seed,
			params,
		},
	};
}

/** Returns `[H, W, C]` of an image item shape. @throws Error when the shape is not rank 3 */
export function hwc(itemShape: readonly number[]): [number, number, number] {
	if (itemShape.length !== 3) {
		throw new Error(`attack: image triggers need [H, W, C] items, got ${JSON.stringify(itemShape)}`);
	}
	return [itemShape[0], itemShape[1], itemShape[2]];
}
