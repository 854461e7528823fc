/**
 * A seeded synthetic 32×32×3 ten-class image set for the scale benchmark's colour run (no colour data set is packaged
 * and CI has no network). Class c is a coloured 10×10 square at a class-specific place on a faintly class-tinted
 * background, with uniform pixel noise; every value is k/255, as in a real 8-bit image set, so the SDK stores the rows
 * as bytes. It measures cost and memory at a CIFAR-like size and shape; its detection figures are for a synthetic task.
 */
import { mulberry32 } from '../src/math/random';

export const RGB_SHAPE = [32, 32, 3] as const;

/** Per-class colour (r, g, b in [0, 1]) of the square. */
const COLOURS: readonly (readonly [number, number, number])[] = [
	[0.9, 0.1, 0.1], [0.1, 0.9, 0.1], [0.1, 0.1, 0.9], [0.9, 0.9, 0.1], [0.9, 0.1, 0.9],
	[0.1, 0.9, 0.9], [0.9, 0.5, 0.1], [0.5, 0.1, 0.9], [0.6, 0.6, 0.6], [0.1, 0.5, 0.5],
];

/**
 * `n` rows of the synthetic set (row-major HWC float32 in [0, 1], values k/255) and their labels.
 * @param seed different seeds give independent draws (training and test sets)
 */
export function syntheticRgb(n: number, seed: number): { images: Float32Array; labels: Int32Array; itemShape: readonly [number, number, number]; source: string } {
	const [H, W, C] = RGB_SHAPE;
	const rand = mulberry32(seed);
	const images = new Float32Array(n * H * W * C);
	const labels = new Int32Array(n);
	for (let i = 0; i < n; i++) {
		const c = Math.floor(rand() * 10);
		labels[i] = c;
		const r0 = 2 + (c % 3) * 9 + Math.floor(rand() * 3);
		const c0 = 2 + Math.floor(c / 3) * 6 + Math.floor(rand() * 3);
		const col = COLOURS[c];
		for (let y = 0; y < H; y++) {
			for (let x = 0; x < W; x++) {
				const on = y >= r0 && y < r0 + 10 && x >= c0 && x < c0 + 10;
				for (let k = 0; k < C; k++) {
					const v = (on ? 0.7 * col[k] : 0.08 * col[k]) + 0.3 * rand();
					images[((i * H + y) * W + x) * C + k] = Math.round(Math.min(1, v) * 255) / 255;
				}
			}
		}
	}
	return { images, labels, itemShape: RGB_SHAPE, source: `synthetic 32×32×3 ten-class squares, seed ${seed}` };
}
