/**
 * Chart colours from VS Code's theme variables, re-read when the theme changes (the body's class
 * switches between vscode-light / vscode-dark / vscode-high-contrast / vscode-high-contrast-light).
 */

import { parseColor, luminance } from './derive';

/** What the charts draw with. */
export interface Palette {
	readonly fg: string;
	readonly muted: string;
	readonly grid: string;
	readonly bg: string;
	readonly blue: string;
	readonly red: string;
	readonly green: string;
	readonly yellow: string;
	readonly orange: string;
	readonly purple: string;
	readonly font: string;
	readonly fontSize: number;
	/** High-contrast themes: thicker lines, stronger "faint" series, no reliance on alpha alone. */
	readonly highContrast: boolean;
	/** True on dark backgrounds. */
	readonly dark: boolean;
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
	const v = style.getPropertyValue(name).trim();
	return v.length > 0 ? v : fallback;
}

/** Reads the palette from the current document. */
export function readPalette(doc: Document): Palette {
	const style = getComputedStyle(doc.body);
	const cls = doc.body.classList;
	const highContrast = cls.contains('vscode-high-contrast') || cls.contains('vscode-high-contrast-light');
	const bg = cssVar(style, '--vscode-editor-background', cls.contains('vscode-light') || cls.contains('vscode-high-contrast-light') ? '#ffffff' : '#1e1e1e');
	const bgRgb = parseColor(bg);
	const dark = bgRgb === null ? !cls.contains('vscode-light') : luminance(bgRgb) < 0.4;
	const fg = cssVar(style, '--vscode-editor-foreground', cssVar(style, '--vscode-foreground', dark ? '#cccccc' : '#333333'));
	return {
		fg,
		muted: cssVar(style, '--vscode-descriptionForeground', fg),
		grid: cssVar(style, '--vscode-charts-lines', dark ? 'rgba(204, 204, 204, 0.25)' : 'rgba(0, 0, 0, 0.15)'),
		bg,
		blue: cssVar(style, '--vscode-charts-blue', '#3794ff'),
		red: cssVar(style, '--vscode-charts-red', '#f14c4c'),
		green: cssVar(style, '--vscode-charts-green', '#89d185'),
		yellow: cssVar(style, '--vscode-charts-yellow', '#cca700'),
		orange: cssVar(style, '--vscode-charts-orange', '#d18616'),
		purple: cssVar(style, '--vscode-charts-purple', '#b180d7'),
		font: cssVar(style, '--vscode-font-family', 'system-ui, sans-serif'),
		fontSize: Number.parseFloat(cssVar(style, '--vscode-font-size', '13')) || 13,
		highContrast,
		dark,
	};
}

/** Colours for overlaid runs, in order. */
export function runColours(p: Palette): string[] {
	return [p.blue, p.orange, p.green, p.purple, p.red, p.yellow];
}
