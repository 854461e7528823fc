/**
 * Zoom and pan on a chart's x scale: wheel zooms around the cursor, drag pans, double-click resets, and the keys
 * + − ← → 0 / Escape do the same from the keyboard. Written here because chartjs-plugin-zoom is not a dependency.
 */
import type { Chart } from 'chart.js';
import type { ChartId } from '../../src/protocol/webview';
import type { XY } from '../derive';
import type { ZoomRange } from '../state';

type LineChart = Chart<'line', XY[]>;

/** Callbacks from chart interactions into the app. */
export interface ChartCallbacks {
	zoom(chart: ChartId, range: ZoomRange | null): void;
}

interface Range {
	readonly min: number;
	readonly max: number;
}

/** The x-extent of all datasets, for clamping zoom-out. */
function dataExtent(chart: LineChart): Range | null {
	let min = Infinity;
	let max = -Infinity;
	for (const ds of chart.data.datasets) {
		for (const pt of ds.data) {
			if (Number.isFinite(pt.x)) {
				min = Math.min(min, pt.x);
				max = Math.max(max, pt.x);
			}
		}
	}
	return min < max ? { min, max } : null;
}

/** One chart's view of its x scale: what is shown, and how to ask for another range. */
class XRange {
	constructor(
		readonly chart: LineChart,
		private readonly id: ChartId,
		private readonly cb: ChartCallbacks,
	) {}

	inArea(ev: MouseEvent): boolean {
		const a = this.chart.chartArea;
		return ev.offsetX >= a.left && ev.offsetX <= a.right && ev.offsetY >= a.top && ev.offsetY <= a.bottom;
	}

	current(): Range | null {
		const x = this.chart.scales.x;
		return x === undefined || !(x.max > x.min) ? null : { min: x.min, max: x.max };
	}

	/** Asks for [min, max]; a range covering all the data is a reset. */
	emit(min: number, max: number): void {
		const ext = dataExtent(this.chart);
		this.cb.zoom(this.id, ext !== null && min <= ext.min && max >= ext.max ? null : { min, max });
	}

	/** Asks for exactly [min, max] (a pan keeps its span even past the data). */
	set(range: Range | null): void {
		this.cb.zoom(this.id, range);
	}
}

function attachWheel(x: XRange): void {
	x.chart.canvas.addEventListener(
		'wheel',
		(ev) => {
			const r = x.current();
			if (r === null || !x.inArea(ev)) {
				return;
			}
			ev.preventDefault();
			const a = x.chart.chartArea;
			const v = r.min + ((ev.offsetX - a.left) / (a.right - a.left)) * (r.max - r.min);
			const factor = ev.deltaY < 0 ? 0.8 : 1.25;
			x.emit(v - (v - r.min) * factor, v + (r.max - v) * factor);
		},
		{ passive: false },
	);
}

function attachDrag(x: XRange): void {
	const canvas = x.chart.canvas;
	let drag: { px: number; min: number; max: number } | null = null;
	canvas.addEventListener('pointerdown', (ev) => {
		const r = x.current();
		if (r === null || !x.inArea(ev) || ev.button !== 0) {
			return;
		}
		drag = { px: ev.offsetX, ...r };
		canvas.setPointerCapture(ev.pointerId);
		canvas.classList.add('is-panning');
	});
	canvas.addEventListener('pointermove', (ev) => {
		if (drag === null) {
			return;
		}
		const a = x.chart.chartArea;
		const dv = ((ev.offsetX - drag.px) / (a.right - a.left)) * (drag.max - drag.min);
		if (dv !== 0) {
			x.set({ min: drag.min - dv, max: drag.max - dv });
		}
	});
	const end = (ev: PointerEvent): void => {
		if (drag !== null) {
			drag = null;
			canvas.releasePointerCapture(ev.pointerId);
			canvas.classList.remove('is-panning');
		}
	};
	canvas.addEventListener('pointerup', end);
	canvas.addEventListener('pointercancel', end);
	canvas.addEventListener('dblclick', () => x.set(null));
}

/** The range a key asks for, as fractions of the current span to add to min and max; 'reset' for 0 / Escape. */
const KEY_STEPS = new Map<string, readonly [number, number] | 'reset'>([
	['+', [0.1, -0.1]],
	['=', [0.1, -0.1]],
	['-', [-0.125, 0.125]],
	['ArrowLeft', [-0.1, -0.1]],
	['ArrowRight', [0.1, 0.1]],
	['0', 'reset'],
	['Escape', 'reset'],
]);

function attachKeys(x: XRange): void {
	x.chart.canvas.addEventListener('keydown', (ev) => {
		const r = x.current();
		const step = KEY_STEPS.get(ev.key);
		if (r === null || step === undefined) {
			return;
		}
		if (step === 'reset') {
			x.set(null);
		} else {
			const span = r.max - r.min;
			x.emit(r.min + span * step[0], r.max + span * step[1]);
		}
		ev.preventDefault();
	});
}

/** Wheel zoom around the cursor, drag to pan, double-click and keys: on the x scale only. */
export function attachZoomPan(chart: LineChart, id: ChartId, cb: ChartCallbacks): void {
	const x = new XRange(chart, id, cb);
	attachWheel(x);
	attachDrag(x);
	attachKeys(x);
}
