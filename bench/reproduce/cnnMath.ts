/**
 * Pure helpers of the CNN experiments: the data augmentation (random shifts), the checkpoint
 * schedule, and a threshold-crossing lag in the style of docs/science.md §7.3 (the step where a
 * curve rises past half of its rise), reported next to the analyser's own signed lag.
 */

/**
 * Shifts each image by a random integer offset in [−maxShift, maxShift]² with zero fill (MNIST's
 * background is 0). Digits are not flipped: a mirrored digit is a different symbol.
 * @param rand uniform [0, 1) generator (seeded by the caller)
 */
export function randomShift(images: Float32Array, itemShape: readonly number[], maxShift: number, rand: () => number): Float32Array {
	const [h, w, c] = [itemShape[0], itemShape[1], itemShape[2] ?? 1];
	const per = h * w * c;
	if (images.length % per !== 0) {
		throw new Error(`randomShift: ${images.length} values is not a whole number of ${JSON.stringify(itemShape)} items`);
	}
	const n = images.length / per;
	const out = new Float32Array(images.length);
	for (let i = 0; i < n; i++) {
		const dy = Math.floor(rand() * (2 * maxShift + 1)) - maxShift;
		const dx = Math.floor(rand() * (2 * maxShift + 1)) - maxShift;
		const base = i * per;
		for (let y = 0; y < h; y++) {
			const sy = y - dy;
			if (sy < 0 || sy >= h) {
				continue;
			}
			for (let x = 0; x < w; x++) {
				const sx = x - dx;
				if (sx < 0 || sx >= w) {
					continue;
				}
				for (let ch = 0; ch < c; ch++) {
					out[base + (y * w + x) * c + ch] = images[base + (sy * w + sx) * c + ch];
				}
			}
		}
	}
	return out;
}

/**
 * Steps at which to checkpoint: every `dense` steps up to `denseUntil` (where backdoors form, well
 * inside the first epoch), then every `sparse` steps, always including 0 and the last step.
 */
export function checkpointSteps(totalSteps: number, dense: number, denseUntil: number, sparse: number): number[] {
	const out = new Set<number>([0]);
	for (let s = dense; s <= Math.min(denseUntil, totalSteps); s += dense) {
		out.add(s);
	}
	for (let s = denseUntil + sparse; s <= totalSteps; s += sparse) {
		out.add(s);
	}
	out.add(totalSteps);
	return [...out].sort((a, b) => a - b);
}

/** Signed lag spectral − attack in steps; negative = the spectrum led. Null when either is missing. */
export function signedLag(attackStep: number | null, spectralStep: number | null): number | null {
	return attackStep === null || spectralStep === null ? null : spectralStep - attackStep;
}

/**
 * First step from which every later value stays at or above `level` (nulls skipped): a crossing
 * that a single early spike cannot fake. Null when the last usable value is below `level`.
 */
export function sustainedCrossing(steps: readonly number[], values: readonly (number | null)[], level: number): number | null {
	let found: number | null = null;
	for (let i = steps.length - 1; i >= 0; i--) {
		const v = values[i];
		if (v === null || !Number.isFinite(v)) {
			continue;
		}
		if (v >= level) {
			found = steps[i];
		} else {
			break;
		}
	}
	return found;
}

/** Half-rise crossing steps of a run's curves and the signed lags between them. */
export interface CrossingLags {
	readonly halfAsrStep: number | null;
	readonly halfOverlapStep: number | null;
	readonly halfCurvatureStep: number | null;
	/** halfOverlapStep − halfAsrStep (negative: the overlap rose first). */
	readonly halfLagOverlap: number | null;
	readonly halfLagCurvature: number | null;
}

/**
 * docs/science.md §7's lag measure, made robust to early chance spikes: each curve's step is where it
 * rises, for good, past half of its rise from the first to the last checkpoint. The attack counts
 * only when its final excess ASR is at least `effective` (the analyser's 0.2); the overlap only
 * when it rose by at least `minOverlapRise`; the curvature only when it at least doubled.
 * @param steps ascending checkpoint steps
 */
export function crossingLags(steps: readonly number[], excessAsr: readonly (number | null)[], overlap: readonly (number | null)[], curvature: readonly (number | null)[], effective = 0.2, minOverlapRise = 0.05): CrossingLags {
	const ends = (v: readonly (number | null)[]): [number, number] | null => {
		const f = v.filter((x): x is number => x !== null && Number.isFinite(x));
		return f.length < 2 ? null : [f[0], f[f.length - 1]];
	};
	const a = ends(excessAsr);
	const o = ends(overlap);
	const c = ends(curvature);
	const halfAsrStep = a !== null && a[1] >= effective ? sustainedCrossing(steps, excessAsr, 0.5 * a[1]) : null;
	const halfOverlapStep = o !== null && o[1] - o[0] >= minOverlapRise ? sustainedCrossing(steps, overlap, o[0] + 0.5 * (o[1] - o[0])) : null;
	const halfCurvatureStep = c !== null && c[1] >= 2 * c[0] ? sustainedCrossing(steps, curvature, c[0] + 0.5 * (c[1] - c[0])) : null;
	return {
		halfAsrStep,
		halfOverlapStep,
		halfCurvatureStep,
		halfLagOverlap: signedLag(halfAsrStep, halfOverlapStep),
		halfLagCurvature: signedLag(halfAsrStep, halfCurvatureStep),
	};
}
