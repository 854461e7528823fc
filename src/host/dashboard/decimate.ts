/**
 * Host-side decimation of chart series: Largest-Triangle-Three-Buckets (Steinarsson 2013, the
 * algorithm behind Chart.js's own `decimation` plugin). Pure: no `vscode`.
 *
 * Why on the host: the webview gets at most a few hundred points per series, so a long run never
 * floods `postMessage` or Chart.js.
 */

import type { Series } from '../../protocol/webview';

/** Default number of points per series sent to the webview. */
export const DEFAULT_MAX_POINTS = 500;

/**
 * Indices chosen by LTTB over (x, y). The first and last points are always kept; x must be
 * non-decreasing.
 * @param x abscissae
 * @param y ordinates, same length as x
 * @param threshold the number of points wanted (≥ 3 to be useful; smaller keeps the ends)
 * @returns sorted, distinct indices into x/y; all indices when `x.length <= threshold`
 */
export function lttbIndices(x: readonly number[], y: readonly number[], threshold: number): number[] {
	const n = x.length;
	if (y.length !== n) {
		throw new Error(`lttbIndices: x has ${n} points but y has ${y.length}`);
	}
	if (threshold >= n || n <= 2) {
		return Array.from({ length: n }, (_, i) => i);
	}
	if (threshold < 3) {
		return threshold <= 1 ? [n - 1] : [0, n - 1];
	}
	const out: number[] = [0];
	// The interior n - 2 points are split into threshold - 2 buckets.
	const every = (n - 2) / (threshold - 2);
	let a = 0;
	for (let i = 0; i < threshold - 2; i++) {
		// Average of the next bucket: the third vertex of the triangle.
		const nextStart = Math.floor((i + 1) * every) + 1;
		const nextEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
		let avgX = 0;
		let avgY = 0;
		const nextLen = nextEnd - nextStart;
		for (let j = nextStart; j < nextEnd; j++) {
			avgX += x[j];
			avgY += y[j];
		}
		if (nextLen > 0) {
			avgX /= nextLen;
			avgY /= nextLen;
		} else {
			avgX = x[n - 1]!;
			avgY = y[n - 1]!;
		}
		const start = Math.floor(i * every) + 1;
		const end = Math.floor((i + 1) * every) + 1;
		const ax = x[a];
		const ay = y[a];
		let maxArea = -1;
		let chosen = start;
		for (let j = start; j < end; j++) {
			const area = Math.abs((ax - avgX) * (y[j] - ay) - (ax - x[j]) * (avgY - ay));
			if (area > maxArea) {
				maxArea = area;
				chosen = j;
			}
		}
		out.push(chosen);
		a = chosen;
	}
	out.push(n - 1);
	return out;
}

/**
 * Decimates a column-oriented series by LTTB on (step, value).
 * @param s the full series
 * @param maxPoints the most points to keep
 */
export function decimateSeries(s: Series, maxPoints: number = DEFAULT_MAX_POINTS): Series {
	if (s.step.length <= maxPoints) {
		return s;
	}
	const idx = lttbIndices(s.step, s.value, maxPoints);
	const pick = (col: readonly number[]): number[] => idx.map((i) => col[i]);
	return { step: pick(s.step), epoch: pick(s.epoch), time: pick(s.time), value: pick(s.value) };
}
