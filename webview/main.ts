/**
 * Dashboard webview entry (bundled to dist/webview.js as a browser iife with Chart.js inside).
 *
 * Builds the page with DOM calls (no inline styles: the CSP forbids them; media/dashboard.css
 * styles everything), says `ready` once its listener is attached, and re-renders from the reducer's
 * state on every message or user action.
 */

import type { ImageRecord } from '../src/protocol/analysisRecord';
import { falseAlarmText } from '../src/protocol/falseAlarms';
import { CHART_IDS, type ChartId, type HostMessage, type RevealSection, type WebviewToHost } from '../src/protocol/webview';
import { DashboardCharts, type EmptyReason } from './charts';
import { BLIND_STATE_LABELS, fmt, fmtKappa, imageToRgba, runLabel, SPECTRAL_SIGNALS_LABELS, suspicionSeries, verdictText } from './derive';
import { comparedRuns, initialState, MAX_SMOOTHING, persisted, primaryRun, reduce, type Action, type PersistedState, type SpectralSignal, type State } from './state';
import { readPalette, type Palette } from './theme';

const vscode = acquireVsCodeApi<PersistedState>();

function post<K extends keyof WebviewToHost>(type: K, payload: WebviewToHost[K]): void {
	vscode.postMessage({ type, payload });
}

/** Creates an element with classes, attributes and children. */
function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: { class?: string; text?: string; attrs?: Record<string, string> } = {}, children: (Node | string)[] = []): HTMLElementTagNameMap[K] {
	const el = document.createElement(tag);
	if (props.class !== undefined) {
		el.className = props.class;
	}
	if (props.text !== undefined) {
		el.textContent = props.text;
	}
	for (const [k, v] of Object.entries(props.attrs ?? {})) {
		el.setAttribute(k, v);
	}
	for (const c of children) {
		el.append(c);
	}
	return el;
}

interface CardParts {
	readonly card: HTMLElement;
	readonly canvas: HTMLCanvasElement;
	readonly empty: HTMLElement;
	readonly sub: HTMLElement;
	readonly extra: HTMLElement;
}

const CARD_TITLES: Record<ChartId, { title: string; sub: string }> = {
	training: { title: 'Training', sub: 'Loss and accuracy as the model trains; the raw series is faint, its moving average solid.' },
	signals: { title: 'Attack success and spectral signals', sub: 'Excess ASR (ASR minus the chance rate p0; raw ASR faint) on the left axis; curvature on triggered probes on the right, over the clean-probe λ1 baseline band.' },
	suspicion: {
		title: 'Suspicion over training (blind)',
		sub: 'The blind test on the newest checkpoint, once per epoch while the run trains: its score against the null band (shaded; an alarm needs the score above its top), the class-shortcut gap (purple; it alarms above its dotted threshold), one point per scan coloured by its state.',
	},
	lag: { title: 'Lag curve', sub: 'One point per checkpoint, joined in time order. A curve that climbs before it moves right means the spectrum warned first.' },
	compare: { title: 'Run comparison', sub: 'Excess ASR (solid) and the chosen spectral signal (dashed) for each ticked run.' },
	safety: { title: 'Safety–efficacy', sub: 'Clean accuracy against excess ASR at each run\u2019s last checkpoint; one point per κ (input-gradient penalty), one line per θ (poison fraction).' },
};

function card(id: ChartId, wide: boolean): CardParts {
	const { title, sub } = CARD_TITLES[id];
	const canvas = h('canvas', { attrs: { role: 'img', 'aria-label': title, tabindex: '0' } });
	const empty = h('div', { class: 'pl-empty', attrs: { role: 'status' } });
	const extra = h('div', { class: 'pl-card-extra' });
	const tools = h('div', { class: 'pl-tools' }, [
		h('button', { class: 'pl-button pl-button--small', text: 'Reset zoom', attrs: { 'data-action': 'reset', 'data-chart': id, title: 'Wheel zooms, drag pans, double-click resets (x axis)' } }),
		h('button', { class: 'pl-button pl-button--small', text: 'PNG', attrs: { 'data-action': 'png', 'data-chart': id, title: 'Save this chart as a PNG image' } }),
		h('button', { class: 'pl-button pl-button--small', text: 'CSV', attrs: { 'data-action': 'csv', 'data-chart': id, title: 'Save the data behind this chart (full resolution) as CSV' } }),
	]);
	const subEl = h('p', { class: 'pl-sub', text: sub });
	const el = h('section', { class: `pl-card${wide ? ' pl-card--wide' : ''}`, attrs: { 'data-chart': id } }, [
		h('header', { class: 'pl-card-head' }, [h('h2', { text: title }), tools]),
		subEl,
		h('div', { class: `pl-canvas-wrap pl-canvas-wrap--${id}` }, [canvas, empty]),
		extra,
	]);
	return { card: el, canvas, empty, sub: subEl, extra };
}

// ---------------------------------------------------------------------------------------------
// Page skeleton

const app = document.getElementById('app') ?? document.body.appendChild(h('div', { attrs: { id: 'app' } }));
app.replaceChildren();

const runSelect = h('select', { class: 'pl-select', attrs: { 'aria-label': 'Run' } });
const statusBadge = h('span', { class: 'pl-badge' });
const openButton = h('button', { class: 'pl-button', text: 'Open run…', attrs: { 'data-action': 'pick' } });
const xAxisGroup = h('div', { class: 'pl-segmented', attrs: { role: 'radiogroup', 'aria-label': 'x axis' } });
for (const [axis, label] of [['step', 'step'], ['epoch', 'epoch'], ['time', 'wall time']] as const) {
	xAxisGroup.append(h('button', { class: 'pl-seg', text: label, attrs: { 'data-axis': axis, role: 'radio' } }));
}
const smoothing = h('input', { class: 'pl-range', attrs: { type: 'range', min: '0', max: String(MAX_SMOOTHING), step: '0.01', 'aria-label': 'Smoothing' } });
const smoothingValue = h('output', { class: 'pl-range-value' });
const logY = h('input', { attrs: { type: 'checkbox', id: 'pl-logy' } });
const signalSelect = h('select', { class: 'pl-select', attrs: { 'aria-label': 'Spectral signal' } });
for (const s of SPECTRAL_SIGNALS_LABELS) {
	signalSelect.append(h('option', { text: s.label, attrs: { value: s.id } }));
}

const header = h('header', { class: 'pl-header' }, [
	h('div', { class: 'pl-header-row' }, [h('h1', { text: 'Poison Lens' }), runSelect, statusBadge, openButton]),
	h('div', { class: 'pl-header-row pl-controls' }, [
		h('span', { class: 'pl-label', text: 'x axis' }),
		xAxisGroup,
		h('label', { class: 'pl-label', text: 'smoothing' }, [smoothing]),
		smoothingValue,
		h('label', { class: 'pl-check' }, [logY, ' log y']),
		h('label', { class: 'pl-label', text: 'spectral signal' }, [signalSelect]),
	]),
]);

const verdictTag = h('span', { class: 'pl-chip' });
const verdictLine = h('span', { class: 'pl-verdict-line' });
const verdictAdvice = h('span', { class: 'pl-verdict-advice' });
const verdict = h('section', { class: 'pl-verdict', attrs: { role: 'status', 'aria-live': 'polite' } }, [verdictTag, verdictLine, verdictAdvice]);
const facts = h('p', { class: 'pl-facts' });
const note = h('p', {
	class: 'pl-note',
	text: 'A quiet clean-probe spectrum proves nothing. A backdoor bends the loss only around triggered inputs: on MNIST the top eigenvector on clean probes stayed at cos² ≤ 2e-4 with the trigger even when the backdoor worked 80–99 % of the time; only triggered probes, or the blind-mode scan of training samples, reveal it.',
});
const notice = h('p', { class: 'pl-notice', attrs: { role: 'status', 'aria-live': 'polite' } });
const problems = h('details', { class: 'pl-problems' });

const cards: Record<ChartId, CardParts> = {
	training: card('training', false),
	signals: card('signals', false),
	suspicion: card('suspicion', true),
	lag: card('lag', false),
	compare: card('compare', false),
	safety: card('safety', false),
};

// The eigenvector images sit in their own card next to the lag curve.
const imagesBody = h('div', { class: 'pl-images' });
const imagesEmpty = h('div', { class: 'pl-empty pl-empty--static', attrs: { role: 'status' } });
const imagesCard = h('section', { class: 'pl-card', attrs: { 'data-chart': 'images' } }, [
	h('header', { class: 'pl-card-head' }, [h('h2', { text: 'Top eigenvector and trigger' })]),
	h('p', { class: 'pl-sub', text: 'The top input-Hessian eigenvector on triggered probes beside the declared trigger (or, in blind mode, the candidate trigger found in the training data).' }),
	imagesBody,
	imagesEmpty,
]);

const compareList = h('div', { class: 'pl-compare-list', attrs: { role: 'group', 'aria-label': 'Runs to compare' } });
cards.compare.extra.append(compareList);

const suspicionState = h('p', { class: 'pl-suspicion-state', attrs: { role: 'status', 'aria-live': 'polite' } });
cards.suspicion.extra.append(suspicionState);

const grid = h('main', { class: 'pl-grid' }, [cards.training.card, cards.signals.card, cards.suspicion.card, cards.lag.card, imagesCard, cards.compare.card, cards.safety.card]);
const globalEmpty = h('section', { class: 'pl-global-empty', attrs: { role: 'status' } });

app.append(header, verdict, facts, note, notice, problems, globalEmpty, grid);

const charts = new DashboardCharts(
	{ training: cards.training.canvas, signals: cards.signals.canvas, suspicion: cards.suspicion.canvas, lag: cards.lag.canvas, compare: cards.compare.canvas, safety: cards.safety.canvas },
	{ zoom: (chart, range) => dispatch({ type: 'zoom', chart, range }) },
);

// ---------------------------------------------------------------------------------------------
// State, rendering

let state: State = initialState(vscode.getState());
let palette: Palette = readPalette(document);
let frame = 0;
let noticeTimer: number | undefined;
/** Milliseconds the last render took, and when the last host message was applied (for the integration test). */
let lastRenderMs = 0;
let lastRenderAt = 0;

function dispatch(action: Action): void {
	const next = reduce(state, action);
	if (next === state) {
		return;
	}
	const settingsChanged = next.settings !== state.settings || next.primaryRunId !== state.primaryRunId;
	state = next;
	if (settingsChanged) {
		vscode.setState(persisted(state));
	}
	if (action.type === 'selectRun') {
		post('selectRun', { runId: action.runId });
	}
	schedule();
}

function schedule(): void {
	if (frame === 0) {
		frame = requestAnimationFrame(() => {
			frame = 0;
			render();
		});
	}
}

function setEmpty(el: HTMLElement, reason: EmptyReason): void {
	el.textContent = reason ?? '';
	el.classList.toggle('is-visible', reason !== null);
}

function drawImage(img: ImageRecord, caption: string, detail: string, key: string): HTMLElement {
	const canvas = h('canvas', { class: 'pl-image', attrs: { width: String(img.width), height: String(img.height), role: 'img', 'aria-label': caption } });
	const ctx = canvas.getContext('2d');
	const { data, signed } = imageToRgba(img);
	if (ctx !== null) {
		const id = ctx.createImageData(img.width, img.height);
		id.data.set(data);
		ctx.putImageData(id, 0, 0);
	}
	return h('figure', { class: 'pl-figure', attrs: { 'data-image': key } }, [canvas, h('figcaption', {}, [h('strong', { text: caption }), h('br'), detail + (signed ? ' Red/blue: sign (arbitrary for an eigenvector), white: 0.' : '')])]);
}

function renderImages(): void {
	const run = primaryRun(state);
	imagesBody.replaceChildren();
	if (run === null) {
		setEmpty(imagesEmpty, 'No run selected.');
		return;
	}
	const imgs = run.images;
	const lastWithOverlap = [...run.checkpoints].reverse().find((c) => c.triggerOverlap !== null);
	if (imgs.topEigenvector !== undefined) {
		imagesBody.append(drawImage(imgs.topEigenvector, 'Top eigenvector', run.info.attackDeclared ? `Triggered probes, newest analysed checkpoint${lastWithOverlap !== undefined ? `; cos² with the trigger ${fmt(lastWithOverlap.triggerOverlap, 2)} at step ${lastWithOverlap.step}` : ''}.` : 'Probes, newest analysed checkpoint.', 'topEigenvector'));
	}
	if (imgs.declaredTrigger !== undefined) {
		imagesBody.append(drawImage(imgs.declaredTrigger, 'Declared trigger', run.info.trigger !== null ? `Attack kind: ${run.info.trigger}${run.info.targetClass !== null ? `, target class ${run.info.targetClass}` : ''}.` : 'As declared in the manifest.', 'declaredTrigger'));
	}
	if (imgs.candidateTrigger !== undefined) {
		const b = run.summary?.blind;
		imagesBody.append(drawImage(imgs.candidateTrigger, 'Candidate trigger (blind mode)', `Consensus of the suspects' eigenvectors${b?.flipRate !== null && b?.flipRate !== undefined ? `; flips ${fmt(b.flipRate * 100, 2)}% of clean probes` : ''}.`, 'candidateTrigger'));
	}
	setEmpty(imagesEmpty, imagesBody.childElementCount === 0 ? 'No images yet: the eigenvector image comes with the first analysed checkpoint.' : null);
}

/** The suspicion card shows only for runs with live blind scans; its line under the chart says the newest state. */
function renderSuspicion(): void {
	const run = primaryRun(state);
	const s = run === null ? null : suspicionSeries(run.blind, state.settings.xAxis);
	cards.suspicion.card.classList.toggle('is-hidden', s === null);
	if (s === null || s.latest === null || run === null) {
		suspicionState.textContent = '';
		return;
	}
	const last = s.latest;
	const test = run.blind?.[run.blind.length - 1]?.test;
	const far = test === undefined ? 'false-alarm rate not measured' : falseAlarmText(test);
	const alarm = s.firstAlarm === null ? 'no alarm so far' : `first alarm at step ${s.firstAlarm.step} (epoch ${fmt(s.firstAlarm.epoch, 3)})`;
	const reason = last.reason.length > 0 ? `${last.reason.charAt(0).toUpperCase()}${last.reason.slice(1)}` : '';
	suspicionState.replaceChildren(
		`Now (step ${last.step}, epoch ${fmt(last.epoch, 3)}): `,
		h('strong', { text: BLIND_STATE_LABELS[last.state] }),
		`. ${reason}${reason.endsWith('.') ? '' : '.'} `,
		h('br'),
		`${alarm.charAt(0).toUpperCase()}${alarm.slice(1)}. Null: ${test?.nullName ?? '–'}; ${far}.`,
	);
	suspicionState.className = `pl-suspicion-state pl-suspicion-state--${last.state}`;
}

function renderCompareList(): void {
	const chosen = new Set(comparedRuns(state).map((r) => r.info.id));
	compareList.replaceChildren(
		...state.order.map((id) => {
			const run = state.runs[id];
			const box = h('input', { attrs: { type: 'checkbox', 'data-compare': id } });
			box.checked = chosen.has(id);
			// Same colour order as the chart (runColours): the list doubles as the legend.
			const swatch = h('span', { class: `pl-swatch pl-swatch--${state.order.indexOf(id) % 6}`, attrs: { 'aria-hidden': 'true' } });
			return h('label', { class: 'pl-check' }, [box, swatch, run === undefined ? id : runLabel(run.info)]);
		}),
	);
}

function renderProblems(): void {
	const run = primaryRun(state);
	const items: string[] = [];
	if (run !== null) {
		if (run.runError !== null) {
			items.push(`The training script reported an error: ${run.runError}`);
		}
		for (const c of run.checkpoints) {
			if (c.error !== null) {
				items.push(`Checkpoint at step ${c.step} (epoch ${fmt(c.epoch, 3)}) could not be analysed: ${c.error}`);
			}
		}
		items.push(...run.problems);
	}
	problems.replaceChildren();
	problems.classList.toggle('is-visible', items.length > 0);
	if (items.length > 0) {
		problems.append(h('summary', { text: `${items.length} ${items.length === 1 ? 'problem' : 'problems'} reading this run (the rest was still read)` }), h('ul', {}, items.map((t) => h('li', { text: t }))));
		problems.open = items.length <= 3;
	}
}

function render(): void {
	const t0 = performance.now();
	renderNow();
	lastRenderMs = performance.now() - t0;
	lastRenderAt = Date.now();
}

function renderNow(): void {
	const run = primaryRun(state);
	// Header controls.
	runSelect.replaceChildren(...state.order.map((id) => h('option', { text: state.runs[id] === undefined ? id : runLabel(state.runs[id].info), attrs: { value: id } })));
	if (run !== null) {
		runSelect.value = run.info.id;
	}
	runSelect.classList.toggle('is-hidden', state.order.length === 0);
	statusBadge.textContent = run === null ? '' : run.info.status;
	statusBadge.className = `pl-badge pl-badge--${run?.info.status ?? 'none'}`;
	for (const b of xAxisGroup.querySelectorAll<HTMLButtonElement>('button')) {
		const on = b.dataset.axis === state.settings.xAxis;
		b.classList.toggle('is-on', on);
		b.setAttribute('aria-checked', String(on));
	}
	smoothing.value = String(state.settings.smoothing);
	smoothingValue.textContent = state.settings.smoothing === 0 ? 'off' : fmt(state.settings.smoothing, 3);
	logY.checked = state.settings.logY;
	signalSelect.value = state.settings.signal;

	notice.textContent = state.notice?.text ?? '';
	notice.className = `pl-notice${state.notice === null ? '' : ` is-visible pl-notice--${state.notice.level}`}`;

	// Whole-page states: waiting, no runs.
	const noRuns = state.received && state.order.length === 0;
	globalEmpty.classList.toggle('is-visible', !state.received || noRuns);
	grid.classList.toggle('is-hidden', !state.received || noRuns);
	verdict.classList.toggle('is-hidden', run === null);
	facts.classList.toggle('is-hidden', run === null);
	if (!state.received) {
		globalEmpty.replaceChildren(h('p', { text: 'Waiting for the extension to send the run data…' }));
	} else if (noRuns) {
		globalEmpty.replaceChildren(
			h('h2', { text: 'No Poison Lens runs yet' }),
			h('p', { text: `Runs appear here as soon as a training script using the Poison Lens SDK writes one${state.runsRoot !== null ? ` under ${state.runsRoot}` : ' under .poison-lens/runs in the workspace'}. The dashboard follows them live.` }),
			h('button', { class: 'pl-button', text: 'Open a run folder…', attrs: { 'data-action': 'pick' } }),
		);
	}

	cards.signals.sub.textContent =
		run !== null && !run.info.attackDeclared
			? 'No declared attack, so no ASR and no trigger overlap: the top eigenvalue on the probes over the clean-probe λ1 baseline band. The blind-mode scan of training samples is summarised above and in the images.'
			: CARD_TITLES.signals.sub;
	if (run !== null) {
		const v = verdictText(run);
		verdict.className = `pl-verdict pl-verdict--${v.severity}`;
		verdictTag.textContent = v.tag;
		verdictLine.textContent = v.line;
		verdictAdvice.textContent = v.advice ?? '';
		const info = run.info;
		const bits = [
			info.attackDeclared ? `declared attack: ${info.trigger ?? 'unknown'} → class ${info.targetClass ?? '?'}` : 'no declared attack (blind mode)',
			info.theta !== null ? `θ = ${fmt(info.theta * 100, 3)}%` : null,
			info.kappa !== null ? `κ = ${fmtKappa(info.kappa)}` : null,
			`${run.checkpoints.length} checkpoints analysed`,
			info.stepsPerEpoch !== null ? `${fmt(info.stepsPerEpoch, 4)} steps per epoch` : null,
		].filter((b): b is string => b !== null);
		facts.textContent = bits.join(' · ');
	}
	renderSuspicion();
	renderProblems();
	renderImages();
	renderCompareList();
	const empties = charts.render(state, palette);
	for (const id of CHART_IDS) {
		setEmpty(cards[id].empty, empties[id]);
		cards[id].card.classList.toggle('is-zoomed', state.settings.zoom[id] !== undefined);
	}
}

// ---------------------------------------------------------------------------------------------
// Events

document.addEventListener('click', (ev) => {
	const target = ev.target instanceof Element ? ev.target.closest<HTMLElement>('[data-action], [data-axis]') : null;
	if (target === null) {
		return;
	}
	const axis = target.dataset.axis;
	if (axis === 'step' || axis === 'epoch' || axis === 'time') {
		dispatch({ type: 'setXAxis', xAxis: axis });
		return;
	}
	const chart = target.dataset.chart as ChartId | undefined;
	switch (target.dataset.action) {
		case 'pick':
			post('pickRun', {});
			return;
		case 'reset':
			if (chart !== undefined) {
				dispatch({ type: 'zoom', chart, range: null });
			}
			return;
		case 'png': {
			const url = chart === undefined ? null : charts.toPng(chart);
			if (chart !== undefined && url !== null) {
				post('exportPng', { chart, dataUrl: url });
			}
			return;
		}
		case 'csv':
			if (chart !== undefined) {
				const ids = chart === 'compare' || chart === 'safety' ? comparedRuns(state).map((r) => r.info.id) : [primaryRun(state)?.info.id].filter((x): x is string => x !== undefined);
				post('exportCsv', { chart, runIds: ids });
			}
			return;
	}
});

document.addEventListener('change', (ev) => {
	const t = ev.target;
	if (t instanceof HTMLInputElement && t.dataset.compare !== undefined) {
		dispatch({ type: 'toggleCompare', runId: t.dataset.compare });
	}
});

runSelect.addEventListener('change', () => dispatch({ type: 'selectRun', runId: runSelect.value }));
smoothing.addEventListener('input', () => dispatch({ type: 'setSmoothing', smoothing: Number(smoothing.value) }));
logY.addEventListener('change', () => dispatch({ type: 'setLogY', logY: logY.checked }));
signalSelect.addEventListener('change', () => dispatch({ type: 'setSignal', signal: signalSelect.value as SpectralSignal }));

/** Scrolls to a section after the next render and flashes its outline. */
function reveal(section: RevealSection): void {
	requestAnimationFrame(() => {
		const el = section === 'suspicion' ? cards.suspicion.card : (imagesBody.querySelector<HTMLElement>('[data-image="candidateTrigger"]') ?? imagesCard);
		el.scrollIntoView({ block: 'center' });
		el.classList.add('is-revealed');
		window.setTimeout(() => el.classList.remove('is-revealed'), 2500);
	});
}

function isHostMessage(v: unknown): v is HostMessage {
	return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string' && 'payload' in v;
}

window.addEventListener('message', (ev: MessageEvent<unknown>) => {
	const m = ev.data;
	if (!isHostMessage(m)) {
		return;
	}
	switch (m.type) {
		case 'snapshot':
			dispatch({ type: 'snapshot', snapshot: m.payload });
			return;
		case 'runUpdated':
			dispatch({ type: 'runUpdated', run: m.payload });
			return;
		case 'runRemoved':
			dispatch({ type: 'runRemoved', runId: m.payload.runId });
			return;
		case 'compare':
			dispatch({ type: 'setCompare', runIds: m.payload.runIds });
			return;
		case 'reveal':
			reveal(m.payload.section);
			return;
		case 'exportResult': {
			const r = m.payload;
			const text = r.error !== null ? `Export failed: ${r.error}` : r.path !== null ? `Saved ${r.format.toUpperCase()} to ${r.path}` : 'Export cancelled.';
			dispatch({ type: 'notice', notice: { level: r.error !== null ? 'error' : 'info', text } });
			window.clearTimeout(noticeTimer);
			noticeTimer = window.setTimeout(() => dispatch({ type: 'notice', notice: null }), 6000);
			return;
		}
	}
});

// Theme switches change the body's class; colours are re-read from the CSS variables then.
new MutationObserver(() => {
	palette = readPalette(document);
	schedule();
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

window.addEventListener('error', (ev) => post('log', { level: 'error', message: `${ev.message} (${ev.filename}:${ev.lineno})` }));

/** Hooks for the integration test: how many points each chart holds. */
(window as unknown as { poisonLens: unknown }).poisonLens = {
	pointCounts: (id: ChartId) => charts.pointCounts(id),
	state: () => state,
	lastRender: () => ({ ms: lastRenderMs, at: lastRenderAt }),
};

render();
post('ready', {});
