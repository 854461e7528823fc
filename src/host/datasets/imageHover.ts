/**
 * Image hovers on dataset rows: a CSV/TSV row whose features are an image (square pixel columns, or an image-path
 * cell) shows that image as PNG data in the hover; on a near-duplicate or dirty-label finding, the row and its
 * partner rows side by side with their labels. VS Code's hover Markdown renders `data:image/png;base64` images
 * (base64, no spaces), so no webview is needed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { decodeImage, resizeArea } from '../../datasets/images';
import { greyToRgba, rowImageLayout, rowPixels, splitLine, type RowImageLayout } from '../../datasets/rowImage';
import { rgbaToPng } from '../../report/png';
import { DIAGNOSTIC_SOURCE } from './convert';

/** Codes whose hover shows the row and its partners side by side. */
const PAIR_CODES = new Set(['dirty-label-duplicate', 'dirty-label-near-duplicate', 'near-clone-cluster', 'spectral-signature']);
/** Partner images shown at most (the finding's message counts them all). */
const MAX_PARTNERS = 3;
/** Displayed size of each image in the hover, in CSS pixels. */
const DISPLAY_PX = 112;
/** Largest side an image-path picture is resampled to before encoding (keeps the hover's data small). */
const PATH_IMAGE_SIDE = 64;

interface RowImage {
	readonly line: number;
	readonly label: string | null;
	readonly dataUrl: string;
}

function delimiterOf(doc: vscode.TextDocument): ',' | '\t' | null {
	const f = doc.fileName.toLowerCase();
	if (f.endsWith('.tsv') || f.endsWith('.tab') || doc.languageId === 'tsv') {
		return '\t';
	}
	if (f.endsWith('.csv') || doc.languageId === 'csv') {
		return ',';
	}
	return null;
}

function pngUrl(grey: ArrayLike<number>, side: number): string {
	const scale = Math.max(1, Math.floor(DISPLAY_PX / side));
	return `data:image/png;base64,${rgbaToPng(greyToRgba(grey), side, side, scale).toString('base64')}`;
}

/** The image of one 0-based line, or null when the line is the header, ragged or not an image. */
function imageOfLine(doc: vscode.TextDocument, layout: RowImageLayout, delimiter: ',' | '\t', line: number): RowImage | null {
	if (line <= 0 || line >= doc.lineCount) {
		return null;
	}
	const fields = splitLine(doc.lineAt(line).text, delimiter);
	const label = layout.labelColumn === null ? null : (fields[layout.labelColumn] ?? null);
	if (layout.kind === 'pixels') {
		const px = rowPixels(layout, fields);
		return px === null ? null : { line: line + 1, label, dataUrl: pngUrl(px, layout.side) };
	}
	const rel = fields[layout.column]?.trim();
	if (rel === undefined || rel === '' || doc.uri.scheme !== 'file') {
		return null;
	}
	try {
		const file = path.resolve(path.dirname(doc.uri.fsPath), rel);
		const img = decodeImage(fs.readFileSync(file), file);
		const side = Math.min(PATH_IMAGE_SIDE, Math.max(img.width, img.height));
		const grey = resizeArea(img, side).map((v) => v / 255);
		return { line: line + 1, label, dataUrl: pngUrl(grey, side) };
	} catch {
		return null;
	}
}

/** The layout of a document, from its header and the hovered row. */
function layoutOf(doc: vscode.TextDocument, delimiter: ',' | '\t', line: number): RowImageLayout | null {
	if (doc.lineCount < 2 || line <= 0) {
		return null;
	}
	const header = splitLine(doc.lineAt(0).text, delimiter);
	const sample = splitLine(doc.lineAt(line).text, delimiter);
	const configured = vscode.workspace.getConfiguration('poisonLens.dataset', doc.uri).get<string>('labelColumn', '');
	return rowImageLayout(header, sample, configured);
}

function cell(img: RowImage): string {
	return `![line ${img.line}](${img.dataUrl}|width=${DISPLAY_PX},height=${DISPLAY_PX})`;
}

function caption(img: RowImage, what: string): string {
	return `${what} line ${img.line}${img.label === null ? '' : ` · label ${img.label.replace(/[|\\`*_[\]<>]/g, '')}`}`;
}

/** The hover provider. */
export class RowImageHover implements vscode.HoverProvider {
	provideHover(doc: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
		const delimiter = delimiterOf(doc);
		if (delimiter === null) {
			return undefined;
		}
		const layout = layoutOf(doc, delimiter, position.line);
		if (layout === null) {
			return undefined;
		}
		const self = imageOfLine(doc, layout, delimiter, position.line);
		if (self === null) {
			return undefined;
		}
		const partnerLines: number[] = [];
		for (const d of vscode.languages.getDiagnostics(doc.uri)) {
			if (d.source === DIAGNOSTIC_SOURCE && typeof d.code === 'string' && PAIR_CODES.has(d.code) && d.range.start.line === position.line) {
				for (const r of d.relatedInformation ?? []) {
					const l = r.location.range.start.line;
					if (r.location.uri.toString() === doc.uri.toString() && l !== position.line && !partnerLines.includes(l)) {
						partnerLines.push(l);
					}
				}
			}
		}
		const partners = partnerLines
			.slice(0, MAX_PARTNERS)
			.map((l) => imageOfLine(doc, layout, delimiter, l))
			.filter((p): p is RowImage => p !== null);
		const md = new vscode.MarkdownString();
		const what = layout.kind === 'pixels' ? `${layout.side}×${layout.side} pixel columns` : 'image file';
		if (partners.length === 0) {
			md.appendMarkdown(`**Poison Lens** · ${caption(self, 'row on')} (${what})\n\n${cell(self)}\n`);
		} else {
			md.appendMarkdown(`**Poison Lens** · this row and ${partnerLines.length === 1 ? 'its partner' : `${partnerLines.length} partners${partnerLines.length > MAX_PARTNERS ? ` (first ${MAX_PARTNERS} shown)` : ''}`} (${what})\n\n`);
			// One paragraph of images (a Markdown table cell does not render a data: image in the hover), then the
			// captions left to right.
			const all = [self, ...partners];
			md.appendMarkdown(`${all.map(cell).join('&nbsp;&nbsp;')}\n\n`);
			md.appendMarkdown(`left to right: ${all.map((p, i) => caption(p, i === 0 ? 'this row,' : 'partner,')).join(' · ')}\n`);
		}
		return new vscode.Hover(md, doc.lineAt(position.line).range);
	}
}

export function registerRowImageHover(context: vscode.ExtensionContext): void {
	const selector: vscode.DocumentSelector = [
		{ scheme: 'file', pattern: '**/*.{csv,tsv,tab}' },
		{ scheme: 'untitled', language: 'csv' },
		{ scheme: 'untitled', language: 'tsv' },
	];
	context.subscriptions.push(vscode.languages.registerHoverProvider(selector, new RowImageHover()));
}
