/**
 * The small binary tensor-set format of run folders (probe set, training sample, stored triggers).
 *
 * Layout (little-endian), see docs/run-format.md:
 *   0   4 bytes  magic "PLTS"
 *   4   u16      version (1, or 2 when bit 2 of the flags is set)
 *   6   u16      flags: bit 0 = labels present (int32), bit 1 = row indices present (uint32),
 *                bit 2 = data stored as u8 k meaning the float32 value k/255 (version 2; padded to 4 bytes)
 *   8   u32      count N (items)
 *   12  u32      rank R of one item
 *   16  u32 × R  item dimensions
 *   …   f32 × N·prod(dims)   data, row-major (NHWC for images); u8 × N·prod(dims) + padding with bit 2
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
/** Version of files whose data is stored as bytes (flag bit 2); version-1 readers refuse them clearly. */
export const TENSOR_FILE_VERSION_U8 = 2;
const FLAG_LABELS = 1;
const FLAG_INDICES = 2;
const FLAG_U8 = 4;
const MAX_RANK = 8;

/** How the values of a tensor file are stored: float32, or one byte k per value meaning k/255 (lossless for 8-bit images). */
export type TensorEncoding = 'float32' | 'uint8/255';

/** float32 value of byte k: exactly what `Math.fround(k / 255)` gives, so bytes decode to the values they came from. */
export const U8_VALUES: Float32Array = Float32Array.from({ length: 256 }, (_, k) => k / 255);

/** True when every value is exactly some k/255 in float32 (k = 0…255), so the bytes store it losslessly. */
export function isUint8Exact(values: ArrayLike<number>): boolean {
	for (let i = 0; i < values.length; i++) {
		const v = values[i];
		const k = Math.round(v * 255);
		if (!(k >= 0 && k <= 255) || U8_VALUES[k] !== v) {
			return false;
		}
	}
	return true;
}

/** Bytes k of values that are all exactly k/255 (callers check {@link isUint8Exact} first). */
export function toUint8(values: ArrayLike<number>): Uint8Array {
	const out = new Uint8Array(values.length);
	for (let i = 0; i < values.length; i++) {
		out[i] = Math.round(values[i] * 255);
	}
	return out;
}

/** Bytes of the header of a tensor file (magic, version, flags, count, rank, dims). */
export function encodeTensorHeader(itemShape: readonly number[], count: number, opts: { labels: boolean; rowIndices: boolean; encoding: TensorEncoding }): Uint8Array {
	const rank = itemShape.length;
	if (rank > MAX_RANK || itemShape.some((d) => !Number.isInteger(d) || d < 1)) {
		throw new Error(`tensor set: bad item shape ${JSON.stringify(itemShape)}`);
	}
	const u8 = opts.encoding === 'uint8/255';
	const header = new Uint8Array(16 + 4 * rank);
	const view = new DataView(header.buffer);
	view.setUint32(0, TENSOR_FILE_MAGIC, true);
	view.setUint16(4, u8 ? TENSOR_FILE_VERSION_U8 : TENSOR_FILE_VERSION, true);
	view.setUint16(6, (opts.labels ? FLAG_LABELS : 0) | (opts.rowIndices ? FLAG_INDICES : 0) | (u8 ? FLAG_U8 : 0), true);
	view.setUint32(8, count, true);
	view.setUint32(12, rank, true);
	itemShape.forEach((d, i) => view.setUint32(16 + 4 * i, d, true));
	return header;
}

/** Bytes of the data section for `values` (little-endian float32, or bytes padded to a multiple of 4 when `pad`). */
export function encodeTensorData(values: ArrayLike<number>, encoding: TensorEncoding, pad = true): Uint8Array {
	if (encoding === 'uint8/255') {
		const bytes = toUint8(values);
		if (!pad || bytes.length % 4 === 0) {
			return bytes;
		}
		const out = new Uint8Array(bytes.length + (4 - (bytes.length % 4)));
		out.set(bytes);
		return out;
	}
	const out = new Uint8Array(4 * values.length);
	const view = new DataView(out.buffer);
	for (let i = 0; i < values.length; i++) {
		view.setFloat32(4 * i, values[i], true);
	}
	return out;
}

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
export function encodeTensorSet(set: TensorSet, encoding: TensorEncoding = 'float32'): Uint8Array {
	const rank = set.itemShape.length;
	if (rank > MAX_RANK || set.itemShape.some((d) => !Number.isInteger(d) || d < 1)) {
		throw new Error(`tensor set: bad item shape ${JSON.stringify(set.itemShape)}`);
	}
	if (encoding === 'uint8/255' && !isUint8Exact(set.data)) {
		throw new Error('tensor set: uint8/255 encoding asked for values that are not all k/255');
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
	const headerBytes = encodeTensorHeader(set.itemShape, set.count, { labels: set.labels !== undefined, rowIndices: set.rowIndices !== undefined, encoding });
	const dataBytes = encodeTensorData(set.data, encoding);
	const header = headerBytes.length;
	const total = header + dataBytes.length + (set.labels === undefined ? 0 : 4 * set.count) + (set.rowIndices === undefined ? 0 : 4 * set.count);
	const buf = new ArrayBuffer(total);
	const view = new DataView(buf);
	new Uint8Array(buf).set(headerBytes, 0);
	new Uint8Array(buf).set(dataBytes, header);
	let offset = header + dataBytes.length;
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

/** Where everything is in a tensor file, from its header and its size. */
export interface TensorLayout {
	readonly itemShape: readonly number[];
	readonly count: number;
	/** Values per item. */
	readonly per: number;
	readonly encoding: TensorEncoding;
	readonly dataOffset: number;
	/** Bytes of the data section (with padding). */
	readonly dataBytes: number;
	readonly labelsOffset: number | null;
	readonly indicesOffset: number | null;
}

/**
 * Reads a tensor file's header and checks that the file size matches it.
 * @param bytes at least the header (the first 16 + 4·rank bytes)
 * @param size the whole file's size in bytes
 * @throws RunFormatError naming the file on a wrong magic, unknown version, or a size that does not match the header
 */
export function tensorLayout(bytes: Uint8Array, size: number, file: string): TensorLayout {
	if (size < 16 || bytes.length < 16) {
		throw new RunFormatError(file, `truncated tensor file: ${size} bytes, the header alone needs 16`);
	}
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const magic = view.getUint32(0, true);
	if (magic !== TENSOR_FILE_MAGIC) {
		throw new RunFormatError(file, `not a Poison Lens tensor file (magic 0x${magic.toString(16)}, expected "PLTS")`);
	}
	const version = view.getUint16(4, true);
	const flags = view.getUint16(6, true);
	const u8 = (flags & FLAG_U8) !== 0;
	if (version !== TENSOR_FILE_VERSION && version !== TENSOR_FILE_VERSION_U8) {
		throw new RunFormatError(file, `tensor file version ${version} is not supported (reads ${TENSOR_FILE_VERSION} and ${TENSOR_FILE_VERSION_U8})`);
	}
	if (u8 !== (version === TENSOR_FILE_VERSION_U8)) {
		throw new RunFormatError(file, `tensor file version ${version} with flags 0x${flags.toString(16)}: byte-stored data (flag 4) comes with version 2 and only with it`);
	}
	const count = view.getUint32(8, true);
	const rank = view.getUint32(12, true);
	if (rank > MAX_RANK) {
		throw new RunFormatError(file, `tensor file rank ${rank} is larger than ${MAX_RANK}`);
	}
	const header = 16 + 4 * rank;
	if (size < header || bytes.length < header) {
		throw new RunFormatError(file, `truncated tensor file: ${size} bytes, the header needs ${header}`);
	}
	const itemShape: number[] = [];
	for (let i = 0; i < rank; i++) {
		itemShape.push(view.getUint32(16 + 4 * i, true));
	}
	const per = itemSize(itemShape);
	const hasLabels = (flags & FLAG_LABELS) !== 0;
	const hasIndices = (flags & FLAG_INDICES) !== 0;
	const values = count * per;
	const dataBytes = u8 ? Math.ceil(values / 4) * 4 : 4 * values;
	const expected = header + dataBytes + (hasLabels ? 4 * count : 0) + (hasIndices ? 4 * count : 0);
	if (size !== expected) {
		throw new RunFormatError(
			file,
			`${size < expected ? 'truncated' : 'oversized'} tensor file: ${size} bytes, the header (${count} × ${JSON.stringify(itemShape)}${u8 ? ' as bytes' : ''}${hasLabels ? ', labels' : ''}${hasIndices ? ', row indices' : ''}) needs ${expected}`,
		);
	}
	const labelsOffset = hasLabels ? header + dataBytes : null;
	const indicesOffset = hasIndices ? header + dataBytes + (hasLabels ? 4 * count : 0) : null;
	return { itemShape, count, per, encoding: u8 ? 'uint8/255' : 'float32', dataOffset: header, dataBytes, labelsOffset, indicesOffset };
}

/** float32 values of `count` items stored from `bytes` (the items' part of the data section), finite-checked. */
function decodeItems(bytes: Uint8Array, layout: TensorLayout, firstItem: number, file: string): Float32Array {
	const n = layout.encoding === 'uint8/255' ? bytes.length : bytes.length / 4;
	const data = new Float32Array(n);
	if (layout.encoding === 'uint8/255') {
		for (let i = 0; i < n; i++) {
			data[i] = U8_VALUES[bytes[i]];
		}
		return data;
	}
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	for (let i = 0; i < n; i++) {
		data[i] = view.getFloat32(4 * i, true);
	}
	const per = Math.max(1, layout.per);
	for (let i = 0; i < n; i++) {
		const v = data[i];
		if (v - v !== 0) {
			throw new RunFormatError(file, `item ${firstItem + Math.floor(i / per)} holds ${String(v)} at value ${i % per}: tensor files must hold finite numbers`);
		}
	}
	return data;
}

function int32s(bytes: Uint8Array, offset: number, count: number): Int32Array {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const out = new Int32Array(count);
	for (let i = 0; i < count; i++) {
		out[i] = view.getInt32(offset + 4 * i, true);
	}
	return out;
}

/**
 * Decodes PLTS bytes (version 1: float32 data; version 2: bytes k meaning k/255).
 * @param bytes the file contents
 * @param file the file's path, used in error messages
 * @throws RunFormatError naming the file on a wrong magic, unknown version, or a size that does not match the header
 */
export function decodeTensorSet(bytes: Uint8Array, file: string): TensorSet {
	const layout = tensorLayout(bytes, bytes.length, file);
	const valueBytes = layout.encoding === 'uint8/255' ? layout.count * layout.per : 4 * layout.count * layout.per;
	const data = decodeItems(bytes.subarray(layout.dataOffset, layout.dataOffset + valueBytes), layout, 0, file);
	const labels = layout.labelsOffset === null ? undefined : int32s(bytes, layout.labelsOffset, layout.count);
	const rowIndices = layout.indicesOffset === null ? undefined : Uint32Array.from(int32s(bytes, layout.indicesOffset, layout.count), (v) => v >>> 0);
	return {
		itemShape: layout.itemShape,
		count: layout.count,
		data,
		...(labels === undefined ? {} : { labels }),
		...(rowIndices === undefined ? {} : { rowIndices }),
	};
}

/** A tensor file opened for reading items in chunks: labels and row indices in memory, item values read on demand. */
export interface TensorSetReader {
	readonly file: string;
	readonly itemShape: readonly number[];
	readonly count: number;
	readonly encoding: TensorEncoding;
	/** Bytes of the file. */
	readonly size: number;
	readonly labels?: Int32Array;
	readonly rowIndices?: Uint32Array;
	/** Items [start, start + n) as float32 values (n·prod(itemShape)). */
	read(start: number, n: number): Promise<Float32Array>;
	/** The given items (any order) as float32 values, back to back. */
	readRows(items: ArrayLike<number>): Promise<Float32Array>;
	close(): Promise<void>;
}

/**
 * Opens a tensor file for chunked reading, so a large training set never has to be in memory at once.
 * @param root when given, the file must resolve (symlinks followed) inside this folder
 * @throws RunFormatError naming the file
 */
export async function openTensorSet(file: string, root?: string, what = 'a tensor file'): Promise<TensorSetReader> {
	let handle: fs.promises.FileHandle;
	let size: number;
	try {
		const real = root === undefined ? file : resolveInsideSync(root, path.relative(root, file), what);
		handle = await fs.promises.open(real, 'r');
		const st = await handle.stat();
		if (!st.isFile()) {
			await handle.close();
			throw Object.assign(new Error(`${file} is not a regular file`), { code: 'EINVAL' });
		}
		size = st.size;
	} catch (err) {
		throw new RunFormatError(file, `cannot read (${fileFault(err, 'read', file).reason})`);
	}
	const readAt = async (offset: number, length: number): Promise<Uint8Array> => {
		const buf = new Uint8Array(length);
		let got = 0;
		while (got < length) {
			const { bytesRead } = await handle.read(buf, got, length - got, offset + got);
			if (bytesRead === 0) {
				throw new RunFormatError(file, `truncated tensor file: it ended at byte ${offset + got} while being read`);
			}
			got += bytesRead;
		}
		return buf;
	};
	try {
		const head = await readAt(0, Math.min(size, 16 + 4 * MAX_RANK));
		const layout = tensorLayout(head, size, file);
		const labels = layout.labelsOffset === null ? undefined : int32s(await readAt(layout.labelsOffset, 4 * layout.count), 0, layout.count);
		const rowIndices = layout.indicesOffset === null ? undefined : Uint32Array.from(int32s(await readAt(layout.indicesOffset, 4 * layout.count), 0, layout.count), (v) => v >>> 0);
		const bytesPerItem = layout.encoding === 'uint8/255' ? layout.per : 4 * layout.per;
		const read = async (start: number, n: number): Promise<Float32Array> => {
			if (!(Number.isInteger(start) && Number.isInteger(n) && start >= 0 && n >= 0 && start + n <= layout.count)) {
				throw new RangeError(`${file}: items ${start}…${start + n - 1} are outside 0…${layout.count - 1}`);
			}
			return decodeItems(await readAt(layout.dataOffset + start * bytesPerItem, n * bytesPerItem), layout, start, file);
		};
		return {
			file,
			itemShape: layout.itemShape,
			count: layout.count,
			encoding: layout.encoding,
			size,
			...(labels === undefined ? {} : { labels }),
			...(rowIndices === undefined ? {} : { rowIndices }),
			read,
			readRows: async (items) => {
				const out = new Float32Array(items.length * layout.per);
				for (let i = 0; i < items.length; i++) {
					out.set(await read(items[i], 1), i * layout.per);
				}
				return out;
			},
			close: () => handle.close(),
		};
	} catch (err) {
		await handle.close();
		throw err;
	}
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
export async function writeTensorSet(file: string, set: TensorSet, encoding: TensorEncoding = 'float32'): Promise<number> {
	const bytes = encodeTensorSet(set, encoding);
	await fs.promises.mkdir(path.dirname(file), { recursive: true });
	const tmp = `${file}.tmp-${process.pid}`;
	await fs.promises.writeFile(tmp, bytes);
	await fs.promises.rename(tmp, file);
	return bytes.length;
}
