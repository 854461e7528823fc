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
import { escapeControl, fileFault, readRegularFileSync, resolveInsideSync } from '../protocol/safeFile';
import { ProblemCode, type Problem } from './problem';
import type { FeatureTable, ParsedDataset, ProgressFn } from './table';

/** Side of the grey square every image is reduced to (16 × 16 = 256 features). */
export const IMAGE_SIDE = 16;

/** Most pixels an image may declare before it is decoded (4096 × 4096; a decoded pixel takes 4 bytes). */
export const DEFAULT_MAX_IMAGE_PIXELS = 4096 * 4096;

/** Largest image file read (bytes). */
export const MAX_IMAGE_FILE_BYTES = 64 * 1024 * 1024;

/**
 * Width and height a PNG (IHDR) or baseline/progressive JPEG (SOFn marker) header declares, read without decoding;
 * null when the header is not there (the decoder then reports the corrupt file).
 */
export function imageDimensions(bytes: Uint8Array): { width: number; height: number } | null {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	if (bytes.length >= 24 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[12] === 0x49 && bytes[13] === 0x48 && bytes[14] === 0x44 && bytes[15] === 0x52) {
		return { width: view.getUint32(16), height: view.getUint32(20) };
	}
	if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
		let i = 2;
		while (i + 4 <= bytes.length) {
			if (bytes[i] !== 0xff) {
				return null;
			}
			const marker = bytes[i + 1];
			if (marker === 0xff) {
				i++;
				continue;
			}
			if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
				i += 2;
				continue;
			}
			const len = view.getUint16(i + 2);
			if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
				return i + 9 <= bytes.length ? { height: view.getUint16(i + 5), width: view.getUint16(i + 7) } : null;
			}
			if (marker === 0xd9 || marker === 0xda || len < 2) {
				return null;
			}
			i += 2 + len;
		}
	}
	return null;
}

/** How image paths are resolved: confined to a folder (default) or anywhere (trusted workspaces that ask for it). */
export interface ImagePathPolicy {
	/** Folder image paths must stay inside (after symlinks); default the dataset's folder. */
	readonly root?: string;
	/** Allow paths outside `root`. */
	readonly outside?: boolean;
	readonly maxPixels?: number;
}

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
export function decodeImage(bytes: Uint8Array, file: string, maxPixels = DEFAULT_MAX_IMAGE_PIXELS): GreyImage {
	const isPng = bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
	const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
	// The decoders allocate width × height × 4 bytes from the header alone: check the declared size first.
	const declared = isPng || isJpeg ? imageDimensions(bytes) : null;
	if (declared !== null && declared.width * declared.height > maxPixels) {
		throw new ImageDecodeError(`${file}: the ${isPng ? 'PNG' : 'JPEG'} header declares ${declared.width} × ${declared.height} pixels, more than the limit of ${maxPixels}; it is not decoded`);
	}
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

const MISSING_WORDS = 'no such file';

/**
 * One image cell: its resized pixels, or the message of its problem. Paths stay inside `root` unless `outside`:
 * a path that leads out gets the same message as a missing file, naming only the path as written. Only regular
 * files are read (a FIFO or `/dev/zero` behind a path is refused before reading), and headers declaring more than
 * `maxPixels` are refused before decoding.
 */
function loadImage(file: string, rel: string, column: string, root: string, outside: boolean, checkOnly: boolean, side: number, maxPixels: number): Float32Array | string {
	const shown = escapeControl(rel.length > 200 ? `${rel.slice(0, 200)}…` : rel);
	let real = file;
	try {
		if (!outside) {
			real = resolveInsideSync(root, path.relative(root, file), 'an image');
		}
		if (checkOnly) {
			const st = fs.statSync(real);
			if (!st.isFile()) {
				return `${column} '${shown}': ${st.isDirectory() ? 'is a folder' : 'not a regular file'}, not an image file`;
			}
			return new Float32Array(0);
		}
		const bytes = readRegularFileSync(real, { maxBytes: MAX_IMAGE_FILE_BYTES });
		return resizeArea(decodeImage(bytes, shown, maxPixels), side);
	} catch (e) {
		if (!(e instanceof ImageDecodeError)) {
			const f = fileFault(e, 'read', file);
			if (f.kind === 'outside' || f.kind === 'missing') {
				return outside
					? `${column} '${shown}': ${MISSING_WORDS} (resolved to ${escapeControl(file)})`
					: `${column} '${shown}': ${MISSING_WORDS} inside ${escapeControl(root)} (image paths must stay inside it)`;
			}
			return `${column} '${shown}': cannot read: ${f.reason}`;
		}
		return e instanceof Error ? e.message : String(e);
	}
}

/**
 * Checks and loads the images of an image-path table. Rows whose image is missing or unreadable get a
 * `missing-image` / `unreadable-image` problem and leave the poisoning analysis. Unless `checkOnly`, the table's
 * features become the image pixels (IMAGE_SIDE² grey levels) followed by its numeric columns, and the image path
 * leaves the rows' text identity, so two files with the same content are duplicates whatever their names.
 * @returns the parsed dataset unchanged when the table has no image column
 */
export function withImageFeatures(parsed: ParsedDataset, baseDir: string, checkOnly: boolean, progress?: ProgressFn, policy: ImagePathPolicy = {}): ParsedDataset {
	const root = policy.root ?? baseDir;
	const maxPixels = policy.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS;
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
			hit = loadImage(file, rel, image.column, root, policy.outside === true, checkOnly, side, maxPixels);
			cache.set(file, hit);
		}
		if (typeof hit === 'string') {
			flag(row, hit.includes(MISSING_WORDS) ? ProblemCode.missingImage : ProblemCode.unreadableImage, hit);
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
