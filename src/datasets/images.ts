/**
 * Image-path datasets (`path,label` CSVs, `{"image": …, "label": …}` JSONL): the images are loaded, checked and
 * turned into features, so the near-duplicate search compares pixels instead of file names (a dirty-label clone is
 * usually a copy of an image under a new name). PNG through pngjs, JPEG through jpeg-js (both pure JS, so the scan
 * worker needs no native code); each image is converted to grey and area-averaged to a small square.
 * Pure module (no `vscode`); file reads are synchronous because it runs in the scan worker or the CLI.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { ProblemCode, type Problem } from './problem';
import type { FeatureTable, ParsedDataset, ProgressFn } from './table';

/** Side of the grey square every image is reduced to (16 × 16 = 256 features). */
export const IMAGE_SIDE = 16;

/** A decoded image as grey levels 0–255. */
export interface GreyImage {
	readonly width: number;
	readonly height: number;
	readonly grey: Float32Array;
}

/** Thrown for a file that is not a PNG or JPEG we can decode; the message names the file. */
export class ImageDecodeError extends Error {}

/**
 * Decodes PNG or JPEG bytes (recognised by their signature, not the file name) to grey levels
 * (ITU-R BT.601 luma of RGB; alpha composited over black).
 * @throws ImageDecodeError naming `file` for other formats or corrupt data
 */
export function decodeImage(bytes: Uint8Array, file: string): GreyImage {
	const isPng = bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
	const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
	let width: number;
	let height: number;
	let rgba: Uint8Array;
	try {
		if (isPng) {
			const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
			({ width, height } = png);
			rgba = png.data;
		} else if (isJpeg) {
			const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 256 });
			({ width, height } = img);
			rgba = img.data;
		} else {
			throw new ImageDecodeError(`${file}: not a PNG or JPEG file (the scanners decode those two formats)`);
		}
	} catch (e) {
		if (e instanceof ImageDecodeError) {
			throw e;
		}
		throw new ImageDecodeError(`${file}: cannot decode ${isPng ? 'PNG' : 'JPEG'}: ${e instanceof Error ? e.message : String(e)}`);
	}
	const grey = new Float32Array(width * height);
	for (let i = 0; i < width * height; i++) {
		const a = rgba[4 * i + 3] / 255;
		grey[i] = a * (0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]);
	}
	return { width, height, grey };
}

/**
 * Area-average resampling to side × side: every output cell is the mean of the input pixels it covers
 * (fractional overlaps weighted), so an image already side × side comes back unchanged.
 */
export function resizeArea(img: GreyImage, side: number): Float32Array {
	const out = new Float32Array(side * side);
	const sy = img.height / side;
	const sx = img.width / side;
	for (let oy = 0; oy < side; oy++) {
		const y0 = oy * sy;
		const y1 = y0 + sy;
		for (let ox = 0; ox < side; ox++) {
			const x0 = ox * sx;
			const x1 = x0 + sx;
			let sum = 0;
			let weight = 0;
			for (let y = Math.floor(y0); y < Math.min(img.height, Math.ceil(y1)); y++) {
				const wy = Math.min(y + 1, y1) - Math.max(y, y0);
				for (let x = Math.floor(x0); x < Math.min(img.width, Math.ceil(x1)); x++) {
					const w = wy * (Math.min(x + 1, x1) - Math.max(x, x0));
					sum += w * img.grey[y * img.width + x];
					weight += w;
				}
			}
			out[oy * side + ox] = weight > 0 ? sum / weight : 0;
		}
	}
	return out;
}

/**
 * Checks and loads the images of an image-path table. Rows whose image is missing or unreadable get a
 * `missing-image` / `unreadable-image` problem and leave the poisoning analysis. Unless `checkOnly`, the table's
 * features become the image pixels (IMAGE_SIDE² grey levels) followed by its numeric columns, and the image path
 * leaves the rows' text identity, so two files with the same content are duplicates whatever their names.
 * @returns the parsed dataset unchanged when the table has no image column
 */
export function withImageFeatures(parsed: ParsedDataset, baseDir: string, checkOnly: boolean, progress?: ProgressFn): ParsedDataset {
	const t = parsed.table;
	const image = t.image;
	if (image === undefined || t.textKey === null) {
		return parsed;
	}
	const side = IMAGE_SIDE;
	const dim = checkOnly ? t.dim : side * side + t.dim;
	const features = checkOnly ? t.features : new Float32Array(t.rows * dim);
	const valid = Uint8Array.from(t.valid);
	const problems: Problem[] = [...parsed.problems];
	const cache = new Map<string, Float32Array | string>();
	const flag = (row: number, code: typeof ProblemCode.missingImage | typeof ProblemCode.unreadableImage, message: string): void => {
		const endLine = t.endLine[row];
		problems.push({
			line: t.startLine[row],
			column: 1,
			...(endLine === t.startLine[row] ? {} : { endLine }),
			endColumn: t.endColumn[row],
			code,
			severity: 'error',
			message,
			related: [],
			evidence: [],
		});
		valid[row] = 0;
	};
	const textKey: (string | null)[] = [];
	for (let row = 0; row < t.rows; row++) {
		const key = t.textKey[row];
		if (key === null || t.valid[row] === 0) {
			textKey.push(key);
			continue;
		}
		const parts = key.split('\u0000');
		const rel = parts[image.keyPart] ?? '';
		parts.splice(image.keyPart, 1);
		textKey.push(parts.length > 0 ? parts.join('\u0000') : '');
		const file = path.resolve(baseDir, rel);
		let hit = cache.get(file);
		if (hit === undefined) {
			if (!fs.existsSync(file)) {
				hit = `${image.column} '${rel}': no such file (resolved to ${file})`;
			} else if (checkOnly) {
				hit = new Float32Array(0);
			} else {
				try {
					hit = resizeArea(decodeImage(fs.readFileSync(file), rel), side);
				} catch (e) {
					hit = e instanceof Error ? e.message : String(e);
				}
			}
			cache.set(file, hit);
		}
		if (typeof hit === 'string') {
			flag(row, hit.includes('no such file') ? ProblemCode.missingImage : ProblemCode.unreadableImage, hit);
		} else if (!checkOnly) {
			features.set(hit, row * dim);
			features.set(t.features.subarray(row * t.dim, (row + 1) * t.dim), row * dim + side * side);
		}
		if (progress && (row & 1023) === 0) {
			progress(row / t.rows, checkOnly ? 'checking images' : 'loading images');
		}
	}
	if (checkOnly) {
		return { table: { ...t, valid }, problems };
	}
	const anyText = textKey.some((k) => k !== null && k !== '');
	const table: FeatureTable = { ...t, dim, features, valid, textKey: anyText ? textKey : null };
	return { table, problems };
}
