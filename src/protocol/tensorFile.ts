/**
 * The small binary tensor-set format of run folders (probe set, training sample, stored triggers).
 *
 * Layout (little-endian), see docs/run-format.md:
 *   0   4 bytes  magic "PLTS"
 *   4   u16      version (1)
 *   6   u16      flags: bit 0 = labels present (int32), bit 1 = row indices present (uint32)
 *   8   u32      count N (items)
 *   12  u32      rank R of one item
 *   16  u32 × R  item dimensions
 *   …   f32 × N·prod(dims)   data, row-major (NHWC for images)
 *   …   i32 × N  labels       (if bit 0)
 *   …   u32 × N  row indices  (if bit 1)
 * The file size must match exactly; anything else is a truncated or corrupt file.
 * Pure: no tfjs, no vscode.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileFault, readRegularFile, resolveInsideSync } from './safeFile';
import { RunFormatError } from './runFormat';

/** The four magic bytes "PLTS". */
export const TENSOR_FILE_MAGIC = 0x53544c50; // "PLTS" read as little-endian u32
export const TENSOR_FILE_VERSION = 1;
const FLAG_LABELS = 1;
const FLAG_INDICES = 2;
const MAX_RANK = 8;

/** A set of N float32 items with optional labels and source row indices. */
export interface TensorSet {
	/** Shape of one item, e.g. `[28, 28, 1]`. */
	readonly itemShape: readonly number[];
	readonly count: number;
	/** `count · prod(itemShape)` values. */
	readonly data: Float32Array;
	readonly labels?: Int32Array;
	/** Row index of each item in its source (e.g. the full training set). */
	readonly rowIndices?: Uint32Array;
}

function itemSize(shape: readonly number[]): number {
	return shape.reduce((a, b) => a * b, 1);
}

/**
 * Encodes a tensor set into the PLTS byte layout.
 * @throws Error when the data length does not match `count · prod(itemShape)` or labels/indices have the wrong length
 */
export function encodeTensorSet(set: TensorSet): Uint8Array {
	const rank = set.itemShape.length;
	if (rank > MAX_RANK || set.itemShape.some((d) => !Number.isInteger(d) || d < 1)) {
		throw new Error(`tensor set: bad item shape ${JSON.stringify(set.itemShape)}`);
	}
	const per = itemSize(set.itemShape);
	if (set.data.length !== set.count * per) {
		throw new Error(`tensor set: data has ${set.data.length} values, expected ${set.count} × ${per}`);
	}
	if (set.labels !== undefined && set.labels.length !== set.count) {
		throw new Error(`tensor set: ${set.labels.length} labels for ${set.count} items`);
	}
	if (set.rowIndices !== undefined && set.rowIndices.length !== set.count) {
		throw new Error(`tensor set: ${set.rowIndices.length} row indices for ${set.count} items`);
	}
	const header = 16 + 4 * rank;
	const total =
		header + 4 * set.data.length + (set.labels === undefined ? 0 : 4 * set.count) + (set.rowIndices === undefined ? 0 : 4 * set.count);
	const buf = new ArrayBuffer(total);
	const view = new DataView(buf);
	view.setUint32(0, TENSOR_FILE_MAGIC, true);
	view.setUint16(4, TENSOR_FILE_VERSION, true);
	view.setUint16(6, (set.labels === undefined ? 0 : FLAG_LABELS) | (set.rowIndices === undefined ? 0 : FLAG_INDICES), true);
	view.setUint32(8, set.count, true);
	view.setUint32(12, rank, true);
	set.itemShape.forEach((d, i) => view.setUint32(16 + 4 * i, d, true));
	let offset = header;
	const writeF32 = (arr: Float32Array): void => {
		for (let i = 0; i < arr.length; i++) {
			view.setFloat32(offset + 4 * i, arr[i], true);
		}
		offset += 4 * arr.length;
	};
	writeF32(set.data);
	if (set.labels !== undefined) {
		for (let i = 0; i < set.count; i++) {
			view.setInt32(offset + 4 * i, set.labels[i], true);
		}
		offset += 4 * set.count;
	}
	if (set.rowIndices !== undefined) {
		for (let i = 0; i < set.count; i++) {
			view.setUint32(offset + 4 * i, set.rowIndices[i], true);
		}
	}
	return new Uint8Array(buf);
}

/**
 * Decodes PLTS bytes.
 * @param bytes the file contents
 * @param file the file's path, used in error messages
 * @throws RunFormatError naming the file on a wrong magic, unknown version, or a size that does not match the header
 */
export function decodeTensorSet(bytes: Uint8Array, file: string): TensorSet {
	if (bytes.length < 16) {
		throw new RunFormatError(file, `truncated tensor file: ${bytes.length} bytes, the header alone needs 16`);
	}
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const magic = view.getUint32(0, true);
	if (magic !== TENSOR_FILE_MAGIC) {
		throw new RunFormatError(file, `not a Poison Lens tensor file (magic 0x${magic.toString(16)}, expected "PLTS")`);
	}
	const version = view.getUint16(4, true);
	if (version !== TENSOR_FILE_VERSION) {
		throw new RunFormatError(file, `tensor file version ${version} is not supported (reads ${TENSOR_FILE_VERSION})`);
	}
	const flags = view.getUint16(6, true);
	const count = view.getUint32(8, true);
	const rank = view.getUint32(12, true);
	if (rank > MAX_RANK) {
		throw new RunFormatError(file, `tensor file rank ${rank} is larger than ${MAX_RANK}`);
	}
	const header = 16 + 4 * rank;
	if (bytes.length < header) {
		throw new RunFormatError(file, `truncated tensor file: ${bytes.length} bytes, the header needs ${header}`);
	}
	const itemShape: number[] = [];
	for (let i = 0; i < rank; i++) {
		itemShape.push(view.getUint32(16 + 4 * i, true));
	}
	const per = itemSize(itemShape);
	const hasLabels = (flags & FLAG_LABELS) !== 0;
	const hasIndices = (flags & FLAG_INDICES) !== 0;
	const expected = header + 4 * count * per + (hasLabels ? 4 * count : 0) + (hasIndices ? 4 * count : 0);
	if (bytes.length !== expected) {
		throw new RunFormatError(
			file,
			`${bytes.length < expected ? 'truncated' : 'oversized'} tensor file: ${bytes.length} bytes, the header (${count} × ${JSON.stringify(itemShape)}${hasLabels ? ', labels' : ''}${hasIndices ? ', row indices' : ''}) needs ${expected}`,
		);
	}
	let offset = header;
	const data = new Float32Array(count * per);
	for (let i = 0; i < data.length; i++) {
		data[i] = view.getFloat32(offset + 4 * i, true);
	}
	for (let i = 0; i < data.length; i++) {
		const v = data[i];
		if (v - v !== 0) {
			throw new RunFormatError(file, `item ${Math.floor(i / Math.max(1, per))} holds ${String(v)} at value ${i % Math.max(1, per)}: tensor files must hold finite numbers`);
		}
	}
	offset += 4 * data.length;
	let labels: Int32Array | undefined;
	if (hasLabels) {
		labels = new Int32Array(count);
		for (let i = 0; i < count; i++) {
			labels[i] = view.getInt32(offset + 4 * i, true);
		}
		offset += 4 * count;
	}
	let rowIndices: Uint32Array | undefined;
	if (hasIndices) {
		rowIndices = new Uint32Array(count);
		for (let i = 0; i < count; i++) {
			rowIndices[i] = view.getUint32(offset + 4 * i, true);
		}
	}
	return {
		itemShape,
		count,
		data,
		...(labels === undefined ? {} : { labels }),
		...(rowIndices === undefined ? {} : { rowIndices }),
	};
}

/**
 * Reads and decodes a tensor file (a regular file only: FIFOs and devices are refused before reading).
 * @param root when given, the file must resolve (symlinks followed) inside this folder, e.g. the run folder;
 *   a missing file and one outside get the same message
 * @throws RunFormatError naming the file
 */
export async function readTensorSet(file: string, root?: string, what = 'a tensor file'): Promise<TensorSet> {
	let bytes: Buffer;
	try {
		const real = root === undefined ? file : resolveInsideSync(root, path.relative(root, file), what);
		bytes = await readRegularFile(real);
	} catch (err) {
		throw new RunFormatError(file, `cannot read (${fileFault(err, 'read', file).reason})`);
	}
	return decodeTensorSet(bytes, file);
}

/**
 * Writes a tensor file atomically (temporary file, then rename), creating the folder.
 * Readers therefore never see a half-written probe set.
 */
export async function writeTensorSet(file: string, set: TensorSet): Promise<number> {
	const bytes = encodeTensorSet(set);
	await fs.promises.mkdir(path.dirname(file), { recursive: true });
	const tmp = `${file}.tmp-${process.pid}`;
	await fs.promises.writeFile(tmp, bytes);
	await fs.promises.rename(tmp, file);
	return bytes.length;
}
