/**
 * Test helper: runs a block once per available tfjs backend. cpu and wasm always run; the gpu
 * (WebGPU on a software or real adapter) runs only when an adapter exists, and says so loudly
 * when it is skipped, so a missing adapter never passes silently as "tested".
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/tfjs/backend';

/** Backends a numerical test can ask for. */
export type TestBackend = 'cpu' | 'wasm' | 'gpu';

/** Tolerance budget per backend for float32 results vs a float64 reference. */
export const HVP_REL_TOL: Readonly<Record<TestBackend, number>> = Object.freeze({ cpu: 1e-5, wasm: 1e-4, gpu: 1e-4 });

let gpuProbe: Promise<string | null> | undefined;

/** Returns null when a WebGPU adapter is usable, else the reason it is not. */
export function gpuUnavailableReason(): Promise<string | null> {
	gpuProbe ??= (async () => {
		if (process.env.POISON_LENS_TEST_GPU === '0') {
			return 'POISON_LENS_TEST_GPU=0';
		}
		const previous = tf.getBackend();
		const s = await selectBackend('gpu');
		const reason = s.name === 'webgpu' ? null : (s.fallbackReason ?? 'webgpu did not start');
		if (previous !== undefined && previous !== tf.getBackend()) {
			await tf.setBackend(previous);
		}
		return reason;
	})();
	return gpuProbe;
}

/** Switches tfjs to the named test backend; throws if it does not start. */
export async function useBackend(b: TestBackend): Promise<void> {
	const s = await selectBackend(b, { strict: true });
	const expected = b === 'gpu' ? 'webgpu' : b;
	if (s.name !== expected) {
		throw new Error(`backend ${b}: tfjs is on ${s.name}`);
	}
}

/** Prints a loud skip line (node:test's own skip message is easy to miss). */
export function announceSkip(what: string, reason: string): void {
	process.stdout.write(`\n*** SKIPPED ${what}: ${reason} ***\n`);
}

/** Relative L2 error ‖a − b‖ / ‖b‖ in float64. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
	if (a.length !== b.length) {
		throw new Error(`relErr: length ${a.length} vs ${b.length}`);
	}
	let num = 0;
	let den = 0;
	for (let i = 0; i < a.length; i++) {
		num += (a[i] - b[i]) ** 2;
		den += b[i] ** 2;
	}
	return Math.sqrt(num) / Math.sqrt(den);
}

/** Deterministic uniform [0,1) generator (mulberry32) for test inputs. */
export { mulberry32 as seeded } from '../../../src/math/random';
