/**
 * Static SVG line charts for the shareable report. Drawn here rather than rendered from the dashboard's Chart.js
 * in a headless browser: `poison-lens report` must run where no browser exists (a CI job, a server), the SVG is
 * exact at any zoom and prints, and the file stays small. Pure string building; every value is escaped.
 */

/** One series of a chart. */
export interface ChartSeries {
	readonly name: string;
	readonly color: string;
	readonly points: readonly { readonly x: number; readonly y: number }[];
	/** Draw markers at each point (checkpoints) instead of a bare line (batches). */
	readonly markers?: boolean;
	readonly dashed?: boolean;
}

export interface ChartSpec {
	readonly title: string;
	readonly xLabel: string;
	readonly yLabel: string;
	readonly series: readonly ChartSeries[];
	/** Fixed y range (e.g. [0, 1] for rates); otherwise from the data. */
	readonly yRange?: readonly [number, number];
	/** Format of y tick labels. */
	readonly yFormat?: (v: number) => string;
	/** Vertical marker lines (e.g. the ASR and spectral steps). */
	readonly markersX?: readonly { readonly x: number; readonly label: string; readonly color: string }[];
	readonly width?: number;
	readonly height?: number;
}

/** Escapes text for XML/HTML content and attribute values. */
export function escapeXml(s: string): string {
	return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
	if (!(hi > lo)) {
		return [lo];
	}
	const raw = (hi - lo) / Math.max(1, count);
	const mag = 10 ** Math.floor(Math.log10(raw));
	const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
	const out: number[] = [];
	for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) {
		out.push(k === 0 ? 0 : Number((k * step).toPrecision(12)));
	}
	return out;
}

function defaultFormat(v: number): string {
	if (v === 0) {
		return '0';
	}
	const a = Math.abs(v);
	return a >= 1e4 || a < 1e-3 ? v.toExponential(1) : Number(v.toPrecision(3)).toString();
}

/** An SVG line chart (or a "no data" panel when every series is empty). */
export function lineChartSvg(spec: ChartSpec): string {
	const W = spec.width ?? 640;
	const H = spec.height ?? 300;
	const m = { left: 62, right: 16, top: 34, bottom: 46 };
	const pw = W - m.left - m.right;
	const ph = H - m.top - m.bottom;
	const all = spec.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
	const head = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(spec.title)}" font-family="system-ui, sans-serif" font-size="11">`;
	const title = `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="600">${escapeXml(spec.title)}</text>`;
	if (all.length === 0) {
		return `${head}${title}<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#ccc"/><text x="${W / 2}" y="${H / 2}" text-anchor="middle" fill="#777">no data</text></svg>`;
	}
	let x0 = Math.min(...all.map((p) => p.x));
	let x1 = Math.max(...all.map((p) => p.x));
	if (x1 === x0) {
		x0 -= 1;
		x1 += 1;
	}
	let [y0, y1] = spec.yRange ?? [Math.min(...all.map((p) => p.y)), Math.max(...all.map((p) => p.y))];
	if (spec.yRange === undefined) {
		const pad = (y1 - y0) * 0.05 || Math.abs(y0) * 0.1 || 1;
		y0 -= pad;
		y1 += pad;
	}
	const sx = (x: number): number => m.left + ((x - x0) / (x1 - x0)) * pw;
	const sy = (y: number): number => m.top + ph - ((Math.min(Math.max(y, y0), y1) - y0) / (y1 - y0)) * ph;
	const fmtY = spec.yFormat ?? defaultFormat;
	const parts: string[] = [head, title];
	parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="#fff" stroke="#bbb"/>`);
	for (const t of niceTicks(y0, y1)) {
		const y = sy(t).toFixed(1);
		parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}" stroke="#eee"/><text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#444">${escapeXml(fmtY(t))}</text>`);
	}
	for (const t of niceTicks(x0, x1, 6)) {
		const x = sx(t).toFixed(1);
		parts.push(`<line x1="${x}" x2="${x}" y1="${m.top + ph}" y2="${m.top + ph + 4}" stroke="#888"/><text x="${x}" y="${m.top + ph + 16}" text-anchor="middle" fill="#444">${escapeXml(defaultFormat(t))}</text>`);
	}
	parts.push(`<text x="${m.left + pw / 2}" y="${H - 8}" text-anchor="middle" fill="#333">${escapeXml(spec.xLabel)}</text>`);
	parts.push(`<text transform="translate(14 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" fill="#333">${escapeXml(spec.yLabel)}</text>`);
	(spec.markersX ?? []).forEach((mk, k) => {
		if (mk.x >= x0 && mk.x <= x1) {
			const x = sx(mk.x).toFixed(1);
			// Alternate labels left and right of their line, so two markers at one step stay readable.
			const anchor = k % 2 === 0 ? 'end' : 'start';
			const dx = k % 2 === 0 ? -3 : 3;
			parts.push(
				`<line x1="${x}" x2="${x}" y1="${m.top}" y2="${m.top + ph}" stroke="${escapeXml(mk.color)}" stroke-dasharray="4 3"/>` +
					`<text x="${(Number(x) + dx).toFixed(1)}" y="${m.top + ph - 6}" text-anchor="${anchor}" fill="${escapeXml(mk.color)}">${escapeXml(mk.label)}</text>`,
			);
		}
	});
	let legendX = m.left + 6;
	for (const s of spec.series) {
		const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
		const color = escapeXml(s.color);
		if (pts.length > 0) {
			const d = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join('');
			parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"${s.dashed === true ? ' stroke-dasharray="5 3"' : ''}/>`);
			if (s.markers === true) {
				for (const p of pts) {
					parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="2.6" fill="${color}"/>`);
				}
			}
		}
		parts.push(`<rect x="${legendX}" y="${m.top + 6}" width="10" height="3" fill="${color}"/><text x="${legendX + 14}" y="${m.top + 10}" fill="#333">${escapeXml(s.name)}</text>`);
		legendX += 30 + s.name.length * 6.5;
	}
	parts.push('</svg>');
	return parts.join('');
}
