/** Hutchinson trace estimation with Rademacher probes: tr(A) ≈ mean zᵀAz, with its standard error. */
import { checkpoint } from './cancel';
import { rademacherVector, uniformGenerator } from '../../math/random';
import type { CancelSignal, LinearOperator, TraceResult } from './types';
import { dot } from '../../math/vector';

/** Options for {@link hutchinsonTrace}. */
export interface TraceOptions {
	/** Maximum probes. Default 64. */
	readonly maxSamples?: number;
	/** Minimum probes before the stopping rule applies. Default 8. */
	readonly minSamples?: number;
	/** Stop when stderr ≤ tol·|estimate|. Default 1e-2. */
	readonly tol?: number;
	readonly seed?: number;
	readonly signal?: CancelSignal;
}

/** Unbiased trace estimate; each probe costs one product. */
export async function hutchinsonTrace(op: LinearOperator, options: TraceOptions = {}): Promise<TraceResult> {
	const maxSamples = options.maxSamples ?? 64;
	const minSamples = Math.min(options.minSamples ?? 8, maxSamples);
	const tol = options.tol ?? 1e-2;
	if (!Number.isInteger(maxSamples) || maxSamples < 2) {
		throw new Error(`hutchinsonTrace: maxSamples=${maxSamples} must be an integer ≥ 2`);
	}
	const u = uniformGenerator(options.seed ?? 0);
	const samples: number[] = [];
	let mean = 0;
	let stderr = Infinity;
	let converged = false;
	for (let s = 0; s < maxSamples; s++) {
		await checkpoint(options.signal, `hutchinson trace of ${op.label}`, s);
		const z = rademacherVector(op.size, u);
		const az = await op.matvec(z);
		samples.push(dot(z, az));
		if (samples.length >= 2) {
			mean = samples.reduce((a, b) => a + b, 0) / samples.length;
			const variance = samples.reduce((a, b) => a + (b - mean) ** 2, 0) / (samples.length - 1);
			stderr = Math.sqrt(variance / samples.length);
			if (samples.length >= minSamples && stderr <= tol * Math.abs(mean)) {
				converged = true;
				break;
			}
		}
	}
	return Object.freeze({ estimate: mean, stderr, samples: samples.length, converged, operator: op.label });
}
