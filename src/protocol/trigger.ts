/**
 * Triggers as data: how a stored trigger turns clean inputs into triggered ones.
 *
 * The SDK's attack generators and every reader (analyser, CLI) use these functions, so "triggered probe" means the
 * same thing everywhere. Inputs are float32 NHWC items in [0, 1]. Pure: no tfjs, no vscode.
 */
import * as path from 'node:path';
import { RunFormatError, TRIGGER_DIR } from './runFormat';
import type { StoredTrigger } from './runFormat';
import { readTensorSet, writeTensorSet } from './tensorFile';
import { gaussian, mixSeed, mulberry32 } from '../math/random';

/** A trigger held in memory. Array members have one item's size (`H·W·C`, or `H·W·2` for a flow). */
export type TriggerSpec =
	| { readonly type: 'additive'; readonly delta: Float32Array }
	| { readonly type: 'mask-blend'; readonly pattern: Float32Array; readonly mask: Float32Array; readonly alpha: number }
	/** flow[(h·W + w)·2 + 0] = row displacement, `+1` = column displacement, in pixels. */
	| { readonly type: 'warp'; readonly flow: Float32Array }
	| { readonly type: 'point'; readonly point: Float32Array; readonly radius: number; readonly seed: number };

function clamp01(v: number): number {
	return v < 0 ? 0 : v > 1 ? 1 : v;
}

/**
 * Applies a trigger to `count` items stored back to back.
 * @param spec the trigger
 * @param itemShape one item's shape `[H, W, C]`
 * @param items `count · H·W·C` values
 * @param firstIndex index of the first item (only the `point` trigger uses it, to seed each item's direction)
 * @returns a new array of triggered items
 */
export function applyTrigger(spec: TriggerSpec, itemShape: readonly number[], items: Float32Array, firstIndex = 0): Float32Array {
	const per = itemShape.reduce((a, b) => a * b, 1);
	if (items.length % per !== 0) {
		throw new Error(`applyTrigger: ${items.length} values is not a whole number of ${JSON.stringify(itemShape)} items`);
	}
	const count = items.length / per;
	const out = new Float32Array(items.length);
	switch (spec.type) {
		case 'additive':
			checkLength(spec.delta, per, 'delta');
			for (let i = 0; i < items.length; i++) {
				out[i] = clamp01((items[i]) + (spec.delta[i % per]));
			}
			break;
		case 'mask-blend':
			checkLength(spec.pattern, per, 'pattern');
			checkLength(spec.mask, per, 'mask');
			for (let i = 0; i < items.length; i++) {
				const m = spec.alpha * (spec.mask[i % per]);
				out[i] = (1 - m) * (items[i]) + m * (spec.pattern[i % per]);
			}
			break;
		case 'warp':
			warpInto(spec.flow, itemShape, items, out, count);
			break;
		case 'point': {
			checkLength(spec.point, per, 'point');
			for (let n = 0; n < count; n++) {
				const dir = unitDirection(per, mixSeed(spec.seed, firstIndex + n));
				for (let i = 0; i < per; i++) {
					out[n * per + i] = (spec.point[i]) + spec.radius * (dir[i]);
				}
			}
			break;
		}
	}
	return out;
}

function checkLength(arr: Float32Array, per: number, name: string): void {
	if (arr.length !== per) {
		throw new Error(`trigger ${name} has ${arr.length} values, the input item has ${per}`);
	}
}

/** A seeded uniformly random unit vector of dimension d. */
export function unitDirection(d: number, seed: number): Float32Array {
	const g = gaussian(mulberry32(seed));
	const v = new Float32Array(d);
	let norm = 0;
	for (let i = 0; i < d; i++) {
		const x = g();
		v[i] = x;
		norm += x * x;
	}
	norm = Math.sqrt(norm);
	for (let i = 0; i < d; i++) {
		v[i] = (v[i]) / norm;
	}
	return v;
}

function warpInto(flow: Float32Array, itemShape: readonly number[], items: Float32Array, out: Float32Array, count: number): void {
	const [H, W, C] = [itemShape[0] ?? 1, itemShape[1] ?? 1, itemShape[2] ?? 1];
	if (itemShape.length !== 3 || flow.length !== H * W * 2) {
		throw new Error(`warp trigger needs [H, W, C] items and an H·W·2 flow; got ${JSON.stringify(itemShape)} and ${flow.length} values`);
	}
	const per = H * W * C;
	for (let n = 0; n < count; n++) {
		const base = n * per;
		for (let h = 0; h < H; h++) {
			for (let w = 0; w < W; w++) {
				const f = (h * W + w) * 2;
				const y = Math.min(H - 1, Math.max(0, h + (flow[f])));
				const x = Math.min(W - 1, Math.max(0, w + (flow[f + 1])));
				const y0 = Math.floor(y);
				const x0 = Math.floor(x);
				const y1 = Math.min(H - 1, y0 + 1);
				const x1 = Math.min(W - 1, x0 + 1);
				const dy = y - y0;
				const dx = x - x0;
				for (let c = 0; c < C; c++) {
					const v00 = items[base + (y0 * W + x0) * C + c];
					const v01 = items[base + (y0 * W + x1) * C + c];
					const v10 = items[base + (y1 * W + x0) * C + c];
					const v11 = items[base + (y1 * W + x1) * C + c];
					out[base + (h * W + w) * C + c] =
						(1 - dy) * ((1 - dx) * v00 + dx * v01) + dy * ((1 - dx) * v10 + dx * v11);
				}
			}
		}
	}
}

/**
 * Writes a trigger's arrays under `<runDir>/trigger/` and returns the manifest entry that points at them.
 * @param itemShape one input item's shape (the flow of a warp trigger is stored as `[H, W, 2]`)
 */
export async function writeStoredTrigger(runDir: string, spec: TriggerSpec, itemShape: readonly number[]): Promise<StoredTrigger> {
	const one = async (name: string, data: Float32Array, shape: readonly number[]): Promise<string> => {
		const rel = `${TRIGGER_DIR}/${name}.bin`;
		await writeTensorSet(path.join(runDir, rel), { itemShape: shape, count: 1, data });
		return rel;
	};
	switch (spec.type) {
		case 'additive':
			return { type: 'additive', deltaFile: await one('delta', spec.delta, itemShape) };
		case 'mask-blend':
			return {
				type: 'mask-blend',
				patternFile: await one('pattern', spec.pattern, itemShape),
				maskFile: await one('mask', spec.mask, itemShape),
				alpha: spec.alpha,
			};
		case 'warp':
			return { type: 'warp', flowFile: await one('flow', spec.flow, [itemShape[0] ?? 1, itemShape[1] ?? 1, 2]) };
		case 'point':
			return { type: 'point', pointFile: await one('point', spec.point, itemShape), radius: spec.radius, seed: spec.seed };
	}
}

/**
 * Loads a stored trigger from a run folder.
 * @throws RunFormatError naming the file when a trigger file is missing, corrupt, or does not hold one item
 */
export async function loadStoredTrigger(runDir: string, stored: StoredTrigger): Promise<TriggerSpec> {
	const one = async (rel: string): Promise<Float32Array> => {
		const file = path.join(runDir, rel);
		const set = await readTensorSet(file, runDir, 'a trigger file');
		if (set.count !== 1) {
			throw new RunFormatError(file, `a trigger file holds exactly one item, found ${set.count}`);
		}
		return set.data;
	};
	switch (stored.type) {
		case 'additive':
			return { type: 'additive', delta: await one(stored.deltaFile) };
		case 'mask-blend':
			return { type: 'mask-blend', pattern: await one(stored.patternFile), mask: await one(stored.maskFile), alpha: stored.alpha };
		case 'warp':
			return { type: 'warp', flow: await one(stored.flowFile) };
		case 'point':
			return { type: 'point', point: await one(stored.pointFile), radius: stored.radius, seed: stored.seed };
	}
}

/**
 * The input-space direction of a trigger at one clean item: x_triggered − x. For additive triggers this is the
 * (clipped) delta; for warps the displacement; the analyser compares it with Hessian eigenvectors.
 */
export function triggerDirection(spec: TriggerSpec, itemShape: readonly number[], item: Float32Array, index = 0): Float32Array {
	const t = applyTrigger(spec, itemShape, item, index);
	for (let i = 0; i < t.length; i++) {
		t[i] = (t[i]) - (item[i]);
	}
	return t;
}
