/**
 * Trigger shapes and poisoning routines written for the detection benchmark only (none of them is an
 * SDK generator, so no detector can have been tuned to them). Pure typed-array code.
 *
 * - `sinusoid`: a horizontal sinusoidal signal over the whole image, x' = clip(x + Δ·sin(2π·f·j/W)), Δ = 0.08 (≈ 20/255),
 *   f = 6 (the SIG signal of Barni, Kallas & Tondi 2019), used dirty-label: poisoned rows are relabelled to the target.
 * - `checker-alpha`: a 5×5 checkerboard in the TOP-LEFT corner (rows and columns 1–5), alpha-blended at 0.6, dirty-label.
 * - `clean-label`: label-consistent poisoning: rows that already carry the target label get a 4×4 white square in the
 *   top-right corner; no label changes. Without adversarial perturbations (Turner et al. 2019) such an attack often
 *   fails: the bench's supply of runs whose attack did not work.
 */
import type { TriggerSpec } from '../../src/protocol/trigger';

/** A bench-made poisoned training set. */
export interface BenchPoison {
	readonly images: Float32Array;
	readonly labels: Int32Array;
	/** Positions (into the given rows) that were poisoned, ascending. */
	readonly poisonIndices: Int32Array;
	/** The trigger in the run format's terms (for the declared-trigger analysis only). */
	readonly spec: TriggerSpec;
	readonly description: string;
	/** Applies the trigger to items stored back to back. */
	readonly apply: (items: Float32Array) => Float32Array;
}

/** Our own seeded generator (xorshift32), independent of the SDK's. */
function xorshift(seed: number): () => number {
	let s = (seed ^ 0x9e3779b9) >>> 0 || 1;
	return () => {
		s ^= s << 13;
		s >>>= 0;
		s ^= s >>> 17;
		s ^= s << 5;
		s >>>= 0;
		return s / 4294967296;
	};
}

/** k distinct positions drawn from `pool` (partial Fisher–Yates). */
function draw(pool: number[], k: number, rand: () => number): Int32Array {
	const a = [...pool];
	const m = Math.min(k, a.length);
	for (let i = 0; i < m; i++) {
		const j = i + Math.floor(rand() * (a.length - i));
		[a[i], a[j]] = [a[j], a[i]];
	}
	return Int32Array.from(a.slice(0, m)).sort();
}

function sinusoidDelta(H: number, W: number, amplitude = 0.08, freq = 6): Float32Array {
	const delta = new Float32Array(H * W);
	for (let i = 0; i < H; i++) {
		for (let j = 0; j < W; j++) {
			delta[i * W + j] = amplitude * Math.sin((2 * Math.PI * freq * j) / W);
		}
	}
	return delta;
}

function maskPattern(H: number, W: number, top: number, left: number, size: number, checker: boolean): { pattern: Float32Array; mask: Float32Array } {
	const pattern = new Float32Array(H * W);
	const mask = new Float32Array(H * W);
	for (let r = 0; r < size; r++) {
		for (let c = 0; c < size; c++) {
			const i = (top + r) * W + (left + c);
			mask[i] = 1;
			pattern[i] = checker ? ((r + c) % 2 === 0 ? 1 : 0) : 1;
		}
	}
	return { pattern, mask };
}

/** The trigger of a bench attack as a function and as a spec (single-channel H×W items). */
export function benchTrigger(name: 'sinusoid' | 'checker-alpha' | 'clean-label', H: number, W: number): { spec: TriggerSpec; description: string; apply: (items: Float32Array) => Float32Array } {
	const per = H * W;
	if (name === 'sinusoid') {
		const delta = sinusoidDelta(H, W);
		return {
			spec: { type: 'additive', delta },
			description: 'bench: horizontal sinusoid, amplitude 0.08, 6 periods per width, clipped to [0, 1]',
			apply: (items) => items.map((v, i) => Math.min(1, Math.max(0, v + delta[i % per]))),
		};
	}
	const { pattern, mask } = name === 'checker-alpha' ? maskPattern(H, W, 1, 1, 5, true) : maskPattern(H, W, 1, W - 5, 4, false);
	const alpha = name === 'checker-alpha' ? 0.6 : 1;
	return {
		spec: { type: 'mask-blend', pattern, mask, alpha },
		description: name === 'checker-alpha' ? 'bench: 5×5 checkerboard, top-left corner, alpha 0.6' : 'bench: 4×4 white square, top-right corner, label-consistent',
		apply: (items) => items.map((v, i) => (1 - alpha * mask[i % per]) * v + alpha * mask[i % per] * pattern[i % per]),
	};
}

/**
 * Poisons a training set with a bench attack.
 * @param fraction θ of the whole set; clean-label takes its rows from the target class only (at most all of them)
 */
export function benchPoison(
	name: 'sinusoid' | 'checker-alpha' | 'clean-label',
	images: Float32Array,
	labels: Int32Array,
	itemShape: readonly number[],
	fraction: number,
	target: number,
	seed: number,
): BenchPoison {
	const [H, W] = itemShape;
	const per = H * W;
	const t = benchTrigger(name, H, W);
	const n = labels.length;
	const k = Math.round(fraction * n);
	const rand = xorshift(seed * 7919 + 17);
	const pool: number[] = [];
	labels.forEach((l, i) => {
		if (name === 'clean-label' ? l === target : l !== target) {
			pool.push(i);
		}
	});
	const poisonIndices = draw(pool, k, rand);
	const outImages = Float32Array.from(images);
	const outLabels = Int32Array.from(labels);
	for (const i of poisonIndices) {
		outImages.set(t.apply(images.subarray(i * per, (i + 1) * per)), i * per);
		if (name !== 'clean-label') {
			outLabels[i] = target;
		}
	}
	return { images: outImages, labels: outLabels, poisonIndices, spec: t.spec, description: t.description, apply: t.apply };
}
