/**
 * "Look, don't read": which dataset rows are images, and the image of a row. A CSV/TSV row is an image when its
 * numeric feature columns (the label column aside) number a perfect square of at least 8×8 (MNIST's 784 pixel
 * columns are 28×28), or when a cell names an image file (the image-path datasets of the scanner). Pure: the host
 * reads the lines and the image files.
 */
import Papa from 'papaparse';
import { LABEL_NAMES, isImagePath, parseCell } from './table';

/** How a file's rows map to images. */
export type RowImageLayout =
	| { readonly kind: 'pixels'; readonly side: number; readonly columns: readonly number[]; readonly labelColumn: number | null }
	| { readonly kind: 'path'; readonly column: number; readonly labelColumn: number | null };

/** The smallest side taken for an image (fewer columns are ordinary tabular features). */
export const MIN_IMAGE_SIDE = 8;

/** Splits one CSV/TSV line into its fields (RFC 4180 quoting). */
export function splitLine(line: string, delimiter: ',' | '\t'): string[] {
	const r = Papa.parse<string[]>(line, { delimiter, header: false, skipEmptyLines: false });
	return r.data[0] ?? [];
}

/** The label column: the configured name or index, else the first header named like a label, else null. */
export function labelColumnOf(header: readonly string[], configured: string): number | null {
	const c = configured.trim();
	if (c !== '') {
		const byName = header.findIndex((h) => h.trim() === c);
		if (byName >= 0) {
			return byName;
		}
		const n = Number(c);
		return Number.isInteger(n) && n >= 0 && n < header.length ? n : null;
	}
	const i = header.findIndex((h) => LABEL_NAMES.includes(h.trim().toLowerCase()));
	return i >= 0 ? i : null;
}

/**
 * Decides the layout from the header and one data row.
 * @returns null when the rows are not images
 */
export function rowImageLayout(header: readonly string[], sample: readonly string[], configuredLabel = ''): RowImageLayout | null {
	const label = labelColumnOf(header, configuredLabel);
	const pathCol = sample.findIndex((v, i) => i !== label && isImagePath(v));
	if (pathCol >= 0) {
		return { kind: 'path', column: pathCol, labelColumn: label };
	}
	const columns: number[] = [];
	sample.forEach((v, i) => {
		if (i !== label && parseCell(v).kind !== 'text') {
			columns.push(i);
		}
	});
	const side = Math.round(Math.sqrt(columns.length));
	if (side < MIN_IMAGE_SIDE || side * side !== columns.length) {
		return null;
	}
	return { kind: 'pixels', side, columns, labelColumn: label };
}

/**
 * The grey pixels of a row (0–1), scaled by 255 when any value exceeds 1 (8-bit pixel columns).
 * @returns null when the row has a different number of fields or a cell is not a number
 */
export function rowPixels(layout: Extract<RowImageLayout, { kind: 'pixels' }>, fields: readonly string[]): Float32Array | null {
	const out = new Float32Array(layout.columns.length);
	let max = 0;
	for (let k = 0; k < layout.columns.length; k++) {
		const c = parseCell(fields[layout.columns[k]] ?? '');
		if (c.kind !== 'number') {
			return null;
		}
		out[k] = c.value;
		max = Math.max(max, c.value);
	}
	if (max > 1) {
		for (let k = 0; k < out.length; k++) {
			out[k] /= 255;
		}
	}
	return out;
}

/** Grey values (0–1) to RGBA bytes. */
export function greyToRgba(grey: ArrayLike<number>): Uint8Array {
	const out = new Uint8Array(grey.length * 4);
	for (let i = 0; i < grey.length; i++) {
		const g = Math.max(0, Math.min(255, Math.round(255 * grey[i])));
		out[i * 4] = g;
		out[i * 4 + 1] = g;
		out[i * 4 + 2] = g;
		out[i * 4 + 3] = 255;
	}
	return out;
}
