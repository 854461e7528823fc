/**
 * The shareable run report: one self-contained HTML file (inline CSS, charts as inline SVG, images as PNG data
 * URLs, a Content-Security-Policy that forbids every fetch), so it opens offline, in a mail attachment or a CI
 * artifact. Pure: input in, text out.
 */
import type { RunManifest } from '../protocol/runFormat';
import type { AnalysisPoint, RunView } from '../protocol/webview';
import { fmt, fmtSignedLag, lossMetric, verdictText } from '../../webview/derive';
import { verdictExplanation } from '../ci/verdictText';
import { imageRecordDataUrl } from './png';
import { escapeXml as esc, lineChartSvg, type ChartSeries } from './svgChart';

/** One suspect training row: its index in the training source and, when known, its 1-based dataset line. */
export interface SuspectRow {
	readonly row: number;
	readonly line: number | null;
}

/** Everything the report shows. */
export interface ReportInput {
	readonly view: RunView;
	/** The validated manifest (null when only its core fields could be read). */
	readonly manifest: RunManifest | null;
	readonly problems: readonly string[];
	readonly suspects: readonly SuspectRow[];
	readonly suspectCount: number;
	/** The dataset file or source the rows refer to. */
	readonly datasetFile: string | null;
	readonly datasetLinesKnown: boolean;
	readonly toolVersion: string;
	readonly generatedAt: string;
}

/** The page's Content-Security-Policy: nothing is fetched; inline styles and data: images only. */
export const REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

const COLORS = { loss: '#1f77b4', clean: '#2ca02c', asr: '#d62728', p0: '#7f7f7f', excess: '#9467bd', lambda: '#1f77b4', overlap: '#ff7f0e', asrStep: '#d62728', specStep: '#1f77b4' };

function pct(v: number | null | undefined): string {
	return v === null || v === undefined ? '–' : `${(100 * v).toFixed(1)} %`;
}

function pts(cps: readonly AnalysisPoint[], pick: (c: AnalysisPoint) => number | null | undefined): { x: number; y: number }[] {
	return cps.filter((c) => c.error === null).flatMap((c) => {
		const y = pick(c);
		return y === null || y === undefined || !Number.isFinite(y) ? [] : [{ x: c.step, y }];
	});
}

function charts(view: RunView): string[] {
	const out: string[] = [];
	const loss = lossMetric(view);
	if (loss !== null) {
		const s = loss.series;
		out.push(
			lineChartSvg({
				title: `Training ${loss.name} (${loss.level})`,
				xLabel: 'step',
				yLabel: loss.name,
				series: [{ name: loss.name, color: COLORS.loss, points: s.step.map((x, i) => ({ x, y: s.value[i] })) }],
			}),
		);
	}
	const cps = view.checkpoints;
	const lag = view.summary?.lag;
	const markersX = [
		...(lag?.asrStep === null || lag?.asrStep === undefined ? [] : [{ x: lag.asrStep, label: 'ASR step', color: COLORS.asrStep }]),
		...(lag?.spectralStep === null || lag?.spectralStep === undefined ? [] : [{ x: lag.spectralStep, label: 'spectral step', color: COLORS.specStep }]),
	];
	const rates: ChartSeries[] = [{ name: 'clean accuracy', color: COLORS.clean, points: pts(cps, (c) => c.cleanAccuracy), markers: true }];
	if (view.info.attackDeclared) {
		rates.push(
			{ name: 'ASR', color: COLORS.asr, points: pts(cps, (c) => c.asr), markers: true },
			{ name: 'p0', color: COLORS.p0, points: pts(cps, (c) => c.p0), markers: true, dashed: true },
			{ name: 'excess ASR', color: COLORS.excess, points: pts(cps, (c) => c.excessAsr), markers: true },
		);
	}
	out.push(lineChartSvg({ title: 'Held-out probes per checkpoint', xLabel: 'step', yLabel: 'rate', series: rates, yRange: [0, 1], yFormat: (v) => `${Math.round(v * 100)} %`, markersX }));
	out.push(lineChartSvg({ title: 'Top input-Hessian eigenvalue λ1 (triggered probes)', xLabel: 'step', yLabel: 'λ1', series: [{ name: 'λ1', color: COLORS.lambda, points: pts(cps, (c) => c.topEigenvalues?.[0]), markers: true }], markersX }));
	if (view.info.attackDeclared) {
		out.push(
			lineChartSvg({
				title: 'Alignment of the top eigenvector with the trigger',
				xLabel: 'step',
				yLabel: 'cos²(v1, t)',
				series: [{ name: 'cos²(v1, t)', color: COLORS.overlap, points: pts(cps, (c) => c.triggerOverlap), markers: true }],
				yRange: [0, 1],
				markersX,
			}),
		);
	}
	return out;
}

function row(k: string, v: string | number | null | undefined): string {
	return `<tr><th>${esc(k)}</th><td>${esc(v === null || v === undefined || v === '' ? '–' : String(v))}</td></tr>`;
}

function settings(input: ReportInput): string {
	const m = input.manifest;
	const i = input.view.info;
	const rows: string[] = [row('run name', i.name), row('run id', i.id), row('created', i.createdAt), row('status', i.status), row('folder', i.dir)];
	if (m !== null) {
		rows.push(row('dataset', `${m.dataset.name} (${m.dataset.numClasses} classes, input ${m.dataset.inputShape.join('×')})`), row('dataset source', m.dataset.source));
		if (m.model !== null) {
			rows.push(row('model', `${m.model.className}, ${m.model.totalParams.toLocaleString('en-US')} parameters, ${m.model.layers.length} layers`));
		}
		rows.push(row('checkpoint every', m.checkpointEvery === 'epoch' ? 'epoch' : `${m.checkpointEvery} steps`), row('probe set', `${m.probe.count} held-out inputs (seed ${m.probe.seed}) from ${m.probe.source}`));
		if (m.trainSample !== undefined) {
			rows.push(row('training sample', `${m.trainSample.count} of ${m.trainSample.totalRows} rows (seed ${m.trainSample.seed})`));
		}
		if (m.attack !== undefined) {
			const a = m.attack;
			rows.push(
				row('declared attack', `${a.kind}: ${a.trigger.description}`),
				row('target label', a.targetLabel),
				row('source classes', a.sourceClasses.join(', ')),
				row('poison fraction θ', a.poisonFraction ?? null),
			);
		} else {
			rows.push(row('declared attack', 'none (blind mode only)'));
		}
		rows.push(row('writer', `${m.writer.name} ${m.writer.version}${m.writer.tfjsVersion === undefined ? '' : `, tfjs ${m.writer.tfjsVersion}`}${m.writer.backend === undefined ? '' : `, backend ${m.writer.backend}`}`));
	}
	rows.push(row('input-gradient penalty κ', i.kappa ?? 0));
	return `<table class="kv">${rows.join('')}</table>`;
}

function images(view: RunView): string {
	const figs: string[] = [];
	const add = (key: 'candidateTrigger' | 'declaredTrigger' | 'topEigenvector', caption: string, detail: string): void => {
		const img = view.images[key];
		if (img !== undefined) {
			figs.push(
				`<figure><img src="${imageRecordDataUrl(img)}" width="140" height="140" alt="${esc(caption)}"><figcaption><b>${esc(caption)}</b><br>${esc(detail)} (${img.width}×${img.height}${img.channels === 3 ? ' RGB' : ''})</figcaption></figure>`,
			);
		}
	};
	add('candidateTrigger', 'Candidate trigger', 'blind mode: the consensus direction of the suspects');
	add('declaredTrigger', 'Declared trigger', 'the trigger the run declared');
	add('topEigenvector', 'Top eigenvector', 'of the input Hessian on triggered probes, newest checkpoint');
	return figs.length === 0 ? '<p class="muted">No images were recorded for this run.</p>' : `<div class="figs">${figs.join('')}</div><p class="muted">Red: positive, blue: negative, white: zero (signed directions); grey: magnitude.</p>`;
}

function suspects(input: ReportInput): string {
	const b = input.view.summary?.blind ?? null;
	if (b === null) {
		return '<p class="muted">Blind mode has not run on this run.</p>';
	}
	const head = `<p>${b.suspects ?? 0} suspect training ${b.suspects === 1 ? 'row' : 'rows'}; the candidate trigger flips ${pct(b.flipRate)} of clean probes${b.flipClass === null || b.flipClass === undefined ? '' : ` to class ${b.flipClass}`}.${input.datasetFile === null ? '' : ` Rows are indices into <code>${esc(input.datasetFile)}</code>${input.datasetLinesKnown ? ' (line numbers from the file itself)' : ''}.`}</p>`;
	if (input.suspects.length === 0) {
		return head;
	}
	// Five suspects per table row keeps a long list short.
	const per = 5;
	const cells = input.suspects.map((s, k) => `<td class="n">${k + 1}</td><td>${s.row}</td><td>${s.line ?? '–'}</td>`);
	const trs: string[] = [];
	for (let i = 0; i < cells.length; i += per) {
		trs.push(`<tr>${cells.slice(i, i + per).join('')}${'<td></td><td></td><td></td>'.repeat(Math.max(0, i + per - cells.length))}</tr>`);
	}
	const heads = '<th>#</th><th>training row</th><th>dataset line</th>'.repeat(Math.min(per, cells.length));
	const body = trs.join('');
	const more = input.suspectCount > input.suspects.length ? `<p class="muted">First ${input.suspects.length} of ${input.suspectCount} listed.</p>` : '';
	return `${head}<table class="grid suspects"><thead><tr>${heads}</tr></thead><tbody>${body}</tbody></table>${more}`;
}

function checkpointTable(view: RunView): string {
	const cps = view.checkpoints;
	if (cps.length === 0) {
		return '<p class="muted">No checkpoint has been analysed.</p>';
	}
	const body = cps
		.map((c) =>
			c.error !== null
				? `<tr><td>${c.step}</td><td>${c.epoch.toFixed(2)}</td><td colspan="6" class="err">error: ${esc(c.error)}</td></tr>`
				: `<tr><td>${c.step}</td><td>${c.epoch.toFixed(2)}</td><td>${pct(c.cleanAccuracy)}</td><td>${pct(c.asr)}</td><td>${pct(c.excessAsr)}</td><td>${esc(fmt(c.topEigenvalues?.[0] ?? null))}</td><td>${esc(fmt(c.triggerOverlap))}</td><td>${esc(c.pass ?? '–')}</td></tr>`,
		)
		.join('');
	return `<table class="grid"><thead><tr><th>step</th><th>epoch</th><th>clean acc</th><th>ASR</th><th>excess ASR</th><th>λ1</th><th>cos²(v1, t)</th><th>pass</th></tr></thead><tbody>${body}</tbody></table>`;
}

/** The report page. */
export function buildReportHtml(input: ReportInput): string {
	const view = input.view;
	const v = verdictText(view);
	const s = view.summary;
	const explanation = s === null ? '' : `<p>${esc(verdictExplanation(s.verdict, { blindTest: s.blind?.test ?? null }))}</p>`;
	const facts = s === null ? '' : `<p class="facts">verdict <code>${esc(s.verdict)}</code> · ${esc(fmtSignedLag(s.lag.lagSteps, s.lag.lagEpochs))}${view.info.attackDeclared ? '' : ' · no declared attack (blind mode)'}</p>`;
	const problems = input.problems.length === 0 ? '' : `<h2>Problems reading the run</h2><ul>${input.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>`;
	return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Poison Lens ${esc(input.toolVersion)}">
<title>Poison Lens report: ${esc(view.info.name)}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; max-width: 1000px; margin: 24px auto; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 2px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.muted { color: #666; } code { background: #f3f3f3; padding: 0 3px; border-radius: 3px; }
.verdict { border-left: 6px solid #888; background: #f6f6f6; padding: 10px 14px; margin: 16px 0; }
.verdict.ok { border-color: #2ca02c; background: #eef8ee; } .verdict.warning { border-color: #e0a000; background: #fff8e5; } .verdict.danger { border-color: #d62728; background: #fdecec; }
.verdict .tag { font-weight: 700; text-transform: uppercase; letter-spacing: .04em; font-size: 12px; }
.verdict .line { font-size: 16px; margin: 4px 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 12px; } .charts svg { width: 100%; height: auto; border: 1px solid #eee; }
.figs { display: flex; gap: 18px; flex-wrap: wrap; } figure { margin: 0; width: 180px; } figure img { image-rendering: pixelated; border: 1px solid #ccc; }
table { border-collapse: collapse; } .kv th { text-align: left; padding: 3px 14px 3px 0; color: #555; font-weight: 500; vertical-align: top; } .kv td { padding: 3px 0; }
.grid th, .grid td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; } .grid th { background: #f3f3f3; } .err { color: #b00; text-align: left !important; } .suspects td.n { color: #888; border-left: 2px solid #bbb; }
footer { margin-top: 32px; color: #777; font-size: 12px; }
</style>
</head>
<body>
<h1>Poison Lens report: ${esc(view.info.name)}</h1>
<div class="muted">run <code>${esc(view.info.id)}</code> · ${esc(view.info.status)} · ${view.checkpoints.length} analysed checkpoint${view.checkpoints.length === 1 ? '' : 's'}</div>
<section class="verdict ${v.severity}" id="verdict">
<div class="tag">${esc(v.tag)}</div>
<div class="line">${esc(v.line)}</div>
${v.advice === null ? '' : `<div class="advice">${esc(v.advice)}</div>`}
${explanation}${facts}
</section>
<h2>Charts</h2>
<div class="charts">${charts(view).join('\n')}</div>
<h2>Candidate trigger and eigenvectors</h2>
${images(view)}
<h2>Suspects</h2>
${suspects(input)}
<h2>Checkpoints</h2>
${checkpointTable(view)}
<h2>Settings of the run</h2>
${settings(input)}
${problems}
<footer>Generated by Poison Lens ${esc(input.toolVersion)} at ${esc(input.generatedAt)}. Self-contained: this file loads nothing from the network.</footer>
</body>
</html>
`;
}
