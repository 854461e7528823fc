/**
 * Attack generators, to red-team one's own pipeline (docs/science.md §3).
 *
 * Each takes a clean labelled image set and returns the poisoned set, the poison indices and a trigger function
 * (plus the trigger as data and a declaration for `PoisonLens.start({ attack })`). Everything is seeded.
 */
import { mixSeed, mulberry32 } from '../../math/random';
import type { TriggerSpec } from '../../protocol/trigger';
import { hwc, poisonWith, resolveOptions } from './common';
import type { AttackOptions, LabelledImages, PoisonedDataset } from './common';

export type { AttackDeclaration, AttackOptions, LabelledImages, PoisonedDataset } from './common';
export { choosePoisonRows } from './common';

/** Where a small trigger sits: pixel offset of its top-left corner from the bottom-right corner. */
export interface Placement {
	/** Rows between the trigger and the bottom edge. Default 1. */
	readonly marginBottom?: number;
	/** Columns between the trigger and the right edge. Default 1. */
	readonly marginRight?: number;
}

/**
 * BadNets (Gu et al. 2017): a small patch pasted over the image (mask-blend with alpha 1).
 * The default patch is a 3×3 checkerboard of 1s and 0s one pixel from the bottom-right corner.
 */
export function badNetsAttack(data: LabelledImages, opts: AttackOptions & Placement & { size?: number }): PoisonedDataset {
	const [H, W, C] = hwc(data.itemShape);
	const size = opts.size ?? 3;
	const top = H - (opts.marginBottom ?? 1) - size;
	const left = W - (opts.marginRight ?? 1) - size;
	if (top < 0 || left < 0) {
		throw new Error(`badNetsAttack: a ${size}×${size} patch does not fit a ${H}×${W} image`);
	}
	const pattern = new Float32Array(H * W * C);
	const mask = new Float32Array(H * W * C);
	for (let r = 0; r < size; r++) {
		for (let c = 0; c < size; c++) {
			for (let ch = 0; ch < C; ch++) {
				const i = ((top + r) * W + (left + c)) * C + ch;
				mask[i] = 1;
				pattern[i] = (r + c) % 2 === 0 ? 1 : 0;
			}
		}
	}
	const spec: TriggerSpec = { type: 'mask-blend', pattern, mask, alpha: 1 };
	return poisonWith(data, opts, 'badnets', spec, `BadNets ${size}×${size} checkerboard patch at rows ${top}–${top + size - 1}, columns ${left}–${left + size - 1}`, {
		size,
		top,
		left,
	});
}

/**
 * Cross: the rank-1 additive poison of the paper. A plus sign of arm length `arm` (default 2, i.e. 9 pixels, as in
 * the reference experiment of docs/science.md §7) is added with amplitude `amplitude` (default 1) and clipped to [0, 1],
 * so x' = clip(x + a·v) with one fixed direction v.
 */
export function crossAttack(data: LabelledImages, opts: AttackOptions & Placement & { arm?: number; amplitude?: number }): PoisonedDataset {
	const [H, W, C] = hwc(data.itemShape);
	const arm = opts.arm ?? 2;
	const amplitude = opts.amplitude ?? 1;
	const cy = H - 1 - (opts.marginBottom ?? 1) - arm;
	const cx = W - 1 - (opts.marginRight ?? 1) - arm;
	if (cy - arm < 0 || cx - arm < 0) {
		throw new Error(`crossAttack: a cross of arm ${arm} does not fit a ${H}×${W} image`);
	}
	const delta = new Float32Array(H * W * C);
	for (let d = -arm; d <= arm; d++) {
		for (let ch = 0; ch < C; ch++) {
			delta[((cy + d) * W + cx) * C + ch] = amplitude;
			delta[(cy * W + (cx + d)) * C + ch] = amplitude;
		}
	}
	const spec: TriggerSpec = { type: 'additive', delta };
	const pixels = 4 * arm + 1;
	return poisonWith(
		data,
		opts,
		'cross',
		spec,
		`additive ${pixels}-pixel cross (arm ${arm}) centred at row ${cy}, column ${cx}, amplitude ${amplitude}, clipped to [0, 1]`,
		{ arm, amplitude, row: cy, column: cx },
	);
}

/**
 * Blend (Chen et al. 2017): x' = (1 − α)·x + α·p with a seeded uniform-noise image p (default α = 0.2).
 */
export function blendAttack(data: LabelledImages, opts: AttackOptions & { alpha?: number; pattern?: Float32Array }): PoisonedDataset {
	const [H, W, C] = hwc(data.itemShape);
	const alpha = opts.alpha ?? 0.2;
	const { seed } = resolveOptions(data, opts);
	let pattern = opts.pattern;
	if (pattern === undefined) {
		const rand = mulberry32(mixSeed(seed, 1));
		pattern = Float32Array.from({ length: H * W * C }, () => rand());
	}
	const mask = new Float32Array(H * W * C).fill(1);
	const spec: TriggerSpec = { type: 'mask-blend', pattern, mask, alpha };
	return poisonWith(data, opts, 'blend', spec, `blend with a ${opts.pattern === undefined ? 'seeded uniform-noise' : 'given'} image, alpha ${alpha}`, {
		alpha,
	});
}

/**
 * Warp (WaNet-style, Nguyen & Tran 2021): a smooth displacement field from a seeded k×k control grid of uniform
 * [−1, 1] offsets, normalised to max |offset| = 1 and upsampled bilinearly to H×W; the displacement is φ·H pixels at
 * most (default φ = 0.02, the paper's strength, and k = 4). Sampling is bilinear with clamped borders.
 */
export function warpAttack(data: LabelledImages, opts: AttackOptions & { strength?: number; gridSize?: number }): PoisonedDataset {
	const [H, W] = hwc(data.itemShape);
	const phi = opts.strength ?? 0.02;
	const k = opts.gridSize ?? 4;
	if (k < 2) {
		throw new Error(`warpAttack: gridSize must be at least 2, got ${k}`);
	}
	const { seed } = resolveOptions(data, opts);
	const rand = mulberry32(mixSeed(seed, 2));
	const grid = Float32Array.from({ length: k * k * 2 }, () => 2 * rand() - 1);
	let maxAbs = 0;
	for (const v of grid) {
		maxAbs = Math.max(maxAbs, Math.abs(v));
	}
	const scale = (phi * H) / (maxAbs > 0 ? maxAbs : 1);
	const flow = new Float32Array(H * W * 2);
	for (let h = 0; h < H; h++) {
		const gy = (h / Math.max(1, H - 1)) * (k - 1);
		const y0 = Math.min(k - 2, Math.floor(gy));
		const ty = gy - y0;
		for (let w = 0; w < W; w++) {
			const gx = (w / Math.max(1, W - 1)) * (k - 1);
			const x0 = Math.min(k - 2, Math.floor(gx));
			const tx = gx - x0;
			for (let d = 0; d < 2; d++) {
				const g = (r: number, c: number): number => grid[(r * k + c) * 2 + d];
				const v = (1 - ty) * ((1 - tx) * g(y0, x0) + tx * g(y0, x0 + 1)) + ty * ((1 - tx) * g(y0 + 1, x0) + tx * g(y0 + 1, x0 + 1));
				flow[(h * W + w) * 2 + d] = scale * v;
			}
		}
	}
	const spec: TriggerSpec = { type: 'warp', flow };
	return poisonWith(data, opts, 'warp', spec, `WaNet-style warp, ${k}×${k} control grid, strength φ = ${phi} (max ${(phi * H).toFixed(2)} px)`, {
		strength: phi,
		gridSize: k,
	});
}

/**
 * Near-clone (docs/science.md §2.6): poisons are points within distance r of a trigger point ζ, labelled as the target.
 * ζ defaults to a seeded pick among source-class training rows; each poison and each triggered input is ζ + r·u with
 * its own seeded unit direction u (poisons and triggered inputs use separate streams, so none coincide).
 * The paper predicts this attack is effective yet nearly invisible to the input-Hessian spectrum for small r.
 */
export function nearCloneAttack(data: LabelledImages, opts: AttackOptions & { radius?: number; point?: Float32Array }): PoisonedDataset {
	const per = data.itemShape.reduce((a, b) => a * b, 1);
	const radius = opts.radius ?? 0.5;
	const { sourceClasses, seed } = resolveOptions(data, opts);
	let point = opts.point;
	let pointRow = -1;
	if (point === undefined) {
		const rows: number[] = [];
		data.labels.forEach((l, i) => {
			if (sourceClasses.includes(l)) {
				rows.push(i);
			}
		});
		if (rows.length === 0) {
			throw new Error('nearCloneAttack: no row of the source classes to take the trigger point from');
		}
		pointRow = rows[Math.floor(mulberry32(mixSeed(seed, 3))() * rows.length)];
		point = data.images.slice(pointRow * per, (pointRow + 1) * per);
	} else if (point.length !== per) {
		throw new Error(`nearCloneAttack: point has ${point.length} values, items have ${per}`);
	}
	const spec: TriggerSpec = { type: 'point', point, radius, seed: mixSeed(seed, 4) };
	const poisonSpec: TriggerSpec = { type: 'point', point, radius, seed: mixSeed(seed, 5) };
	return poisonWith(
		data,
		opts,
		'near-clone',
		spec,
		`near-clone: poisons at distance ${radius} from a trigger point ${pointRow >= 0 ? `(training row ${pointRow})` : '(given)'}`,
		{ radius, ...(pointRow >= 0 ? { pointRow } : {}) },
		poisonSpec,
	);
}

/** Trigger kinds the demo and the CLI accept by name. */
export type AttackName = 'badnets' | 'cross' | 'blend' | 'warp' | 'near-clone';

/** Runs a generator by name with its defaults. */
export function makeAttack(name: AttackName, data: LabelledImages, opts: AttackOptions): PoisonedDataset {
	switch (name) {
		case 'badnets':
			return badNetsAttack(data, opts);
		case 'cross':
			return crossAttack(data, opts);
		case 'blend':
			return blendAttack(data, opts);
		case 'warp':
			return warpAttack(data, opts);
		case 'near-clone':
			return nearCloneAttack(data, opts);
	}
}

/** The names accepted by {@link makeAttack}. */
export const ATTACK_NAMES: readonly AttackName[] = Object.freeze(['badnets', 'cross', 'blend', 'warp', 'near-clone']);
