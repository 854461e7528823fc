/** Text on the dashboard's charts: markers, corner and point labels, a labelled diagonal, and the background fill. */
import type { Plugin } from 'chart.js';
import { withAlpha } from '../derive';

/** A vertical marker drawn on a chart: an x position with a label. */
export interface Marker {
	readonly x: number;
	readonly label: string;
	readonly colour: string;
}

/** Text drawn on a chart by the annotation plugin. */
export interface Annotations {
	markers?: Marker[];
	/** Labels in the upper-left and lower-right corners (lag chart: which side means what). */
	corners?: { upperLeft: string; lowerRight: string; colour: string };
	/** Point labels (safety–efficacy: κ). */
	pointLabels?: { x: number; y: number; text: string; colour: string }[];
	/** Draw the chart area's diagonal, labelled. */
	diagonal?: { label: string; colour: string };
	background: string;
	font: string;
	fontSize: number;
}

export const annotationsByChart = new WeakMap<object, Annotations>();

/** Draws markers, headlines, corner and point labels, and fills the background (so a PNG export is readable). */
export const annotationPlugin: Plugin<'line'> = {
	id: 'poisonLensAnnotations',
	beforeDraw(chart) {
		const a = annotationsByChart.get(chart);
		if (a === undefined) {
			return;
		}
		const { ctx, width, height } = chart;
		ctx.save();
		ctx.fillStyle = a.background;
		ctx.fillRect(0, 0, width, height);
		ctx.restore();
	},
	afterDatasetsDraw(chart) {
		const a = annotationsByChart.get(chart);
		if (a === undefined) {
			return;
		}
		const { ctx, chartArea: area } = chart;
		const xScale = chart.scales.x;
		const yScale = chart.scales.y;
		ctx.save();
		ctx.font = `${a.fontSize}px ${a.font}`;
		ctx.textBaseline = 'top';
		if (a.diagonal !== undefined) {
			ctx.strokeStyle = withAlpha(a.diagonal.colour, 0.6);
			ctx.setLineDash([4, 4]);
			ctx.lineWidth = 1;
			ctx.beginPath();
			ctx.moveTo(area.left, area.bottom);
			ctx.lineTo(area.right, area.top);
			ctx.stroke();
			ctx.setLineDash([]);
			ctx.fillStyle = a.diagonal.colour;
			ctx.textAlign = 'right';
			ctx.save();
			ctx.translate(area.left + (area.right - area.left) * 0.55, area.bottom - (area.bottom - area.top) * 0.55);
			ctx.rotate(-Math.atan2(area.bottom - area.top, area.right - area.left));
			ctx.fillText(a.diagonal.label, 0, 4);
			ctx.restore();
		}
		if (a.corners !== undefined) {
			ctx.fillStyle = a.corners.colour;
			ctx.textAlign = 'left';
			ctx.textBaseline = 'top';
			ctx.fillText(a.corners.upperLeft, area.left + 6, area.top + 4);
			ctx.textAlign = 'right';
			ctx.textBaseline = 'bottom';
			ctx.fillText(a.corners.lowerRight, area.right - 6, area.bottom - 4);
			ctx.textBaseline = 'top';
		}
		if (a.markers !== undefined && xScale !== undefined) {
			// Labels of neighbouring markers would collide: each one gets its own line.
			for (const [i, m] of a.markers.entries()) {
				const px = xScale.getPixelForValue(m.x);
				if (!(px >= area.left && px <= area.right)) {
					continue;
				}
				ctx.strokeStyle = m.colour;
				ctx.setLineDash([5, 3]);
				ctx.lineWidth = 1.5;
				ctx.beginPath();
				ctx.moveTo(px, area.top);
				ctx.lineTo(px, area.bottom);
				ctx.stroke();
				ctx.setLineDash([]);
				ctx.fillStyle = m.colour;
				ctx.textAlign = px > (area.left + area.right) / 2 ? 'right' : 'left';
				ctx.fillText(m.label, px + (ctx.textAlign === 'right' ? -4 : 4), area.top + 4 + i * (a.fontSize + 4));
			}
		}
		if (a.pointLabels !== undefined && xScale !== undefined && yScale !== undefined) {
			ctx.textAlign = 'left';
			ctx.textBaseline = 'middle';
			for (const p of a.pointLabels) {
				ctx.fillStyle = p.colour;
				const px = xScale.getPixelForValue(p.x);
				const fits = px + 8 + ctx.measureText(p.text).width <= area.right;
				ctx.textAlign = fits ? 'left' : 'right';
				ctx.fillText(p.text, fits ? px + 8 : px - 8, yScale.getPixelForValue(p.y));
			}
		}
		ctx.restore();
	},
};
