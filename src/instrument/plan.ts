/**
 * One-click instrumentation of a TensorFlow.js training script, as text edits (pure: no `vscode`, no parser
 * dependency). A script qualifies when it imports `@tensorflow/tfjs*`, calls `.fit(` or `.fitDataset(`, and does not
 * already use the Poison Lens SDK. The plan inserts the SDK import, a `PoisonLens.start({...})` skeleton before the
 * training statement (probe and training-sample placeholders named after variables visible there), the recorder's
 * callback in the call's `callbacks`, and `await lens.end()` after the statement. The host applies the edits as one
 * WorkspaceEdit, so one undo reverts them all.
 *
 * The scanner understands JS/TS lexically (strings, template literals, comments, bracket nesting); it does not build
 * an AST, so an unusual call it cannot read is left alone rather than edited wrongly.
 */

/** A text insertion or replacement at character offsets of the original text. */
export interface TextEditSpec {
	readonly start: number;
	readonly end: number;
	readonly text: string;
}

/** A training call the plan can instrument. */
export interface FitCall {
	/** Offset of the `.fit` / `.fitDataset` member name. */
	readonly nameStart: number;
	readonly method: 'fit' | 'fitDataset';
	/** Offsets of `(` and the matching `)`. */
	readonly open: number;
	readonly close: number;
	/** Argument spans (trimmed), in order. */
	readonly args: readonly { readonly start: number; readonly end: number }[];
}

export interface InstrumentPlan {
	readonly call: FitCall;
	readonly edits: readonly TextEditSpec[];
	/** Variables the skeleton names (for the message). */
	readonly probe: { readonly xs: string; readonly labels: string; readonly guessed: boolean };
	readonly train: { readonly xs: string; readonly labels: string };
}

export interface PlanOptions {
	/** Module specifier of the SDK (default `poison-lens/sdk`). */
	readonly sdkModule?: string;
	/** Run name in the skeleton (default: the file's base name). */
	readonly runName?: string;
}

const TFJS_IMPORT = /(?:from\s*|require\s*\(\s*|import\s*\(\s*)['"]@tensorflow\/tfjs[\w-]*['"]/;
const SDK_USE = /['"]poison-lens\/sdk['"]|\bPoisonLens\s*\.\s*start\s*\(/;

/** Marks which offsets are code (not inside a string, template text or comment). */
export function codeMask(text: string): Uint8Array {
	const mask = new Uint8Array(text.length);
	let i = 0;
	const templateDepth: number[] = [];
	let braceDepth = 0;
	while (i < text.length) {
		const c = text[i];
		const n = text[i + 1];
		if (c === '/' && n === '/') {
			while (i < text.length && text[i] !== '\n') {
				i++;
			}
			continue;
		}
		if (c === '/' && n === '*') {
			const end = text.indexOf('*/', i + 2);
			i = end < 0 ? text.length : end + 2;
			continue;
		}
		if (c === '"' || c === "'") {
			i++;
			while (i < text.length && text[i] !== c && text[i] !== '\n') {
				i += text[i] === '\\' ? 2 : 1;
			}
			i++;
			continue;
		}
		if (c === '`' || (c === '}' && templateDepth.length > 0 && templateDepth[templateDepth.length - 1] === braceDepth)) {
			if (c === '}') {
				templateDepth.pop();
			}
			i++;
			// Template text up to the closing backtick or the next `${`.
			while (i < text.length && text[i] !== '`') {
				if (text[i] === '\\') {
					i += 2;
					continue;
				}
				if (text[i] === '$' && text[i + 1] === '{') {
					templateDepth.push(braceDepth);
					i += 2;
					break;
				}
				i++;
			}
			if (text[i] === '`') {
				i++;
			}
			continue;
		}
		if (c === '{') {
			braceDepth++;
		} else if (c === '}') {
			braceDepth--;
		}
		mask[i] = 1;
		i++;
	}
	return mask;
}

/** Offset of the bracket matching the one at `open` (code only), or -1. */
function matchBracket(text: string, mask: Uint8Array, open: number): number {
	const pairs: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
	const stack: string[] = [];
	for (let i = open; i < text.length; i++) {
		if (mask[i] === 0) {
			continue;
		}
		const c = text[i];
		if (c in pairs) {
			stack.push(pairs[c]);
		} else if (c === ')' || c === ']' || c === '}') {
			if (stack.pop() !== c) {
				return -1;
			}
			if (stack.length === 0) {
				return i;
			}
		}
	}
	return -1;
}

/** Top-level comma-separated spans between `open` and `close` (exclusive), trimmed. */
function splitArgs(text: string, mask: Uint8Array, open: number, close: number): { start: number; end: number }[] {
	const out: { start: number; end: number }[] = [];
	let depth = 0;
	let start = open + 1;
	const push = (end: number): void => {
		let s = start;
		let e = end;
		while (s < e && /\s/.test(text[s])) {
			s++;
		}
		while (e > s && /\s/.test(text[e - 1])) {
			e--;
		}
		if (e > s) {
			out.push({ start: s, end: e });
		}
	};
	for (let i = open + 1; i < close; i++) {
		if (mask[i] === 0) {
			continue;
		}
		const c = text[i];
		if (c === '(' || c === '[' || c === '{') {
			depth++;
		} else if (c === ')' || c === ']' || c === '}') {
			depth--;
		} else if (c === ',' && depth === 0) {
			push(i);
			start = i + 1;
		}
	}
	push(close);
	return out;
}

/** Whether the text qualifies: tfjs imported, a training call present, the SDK not used yet. */
export function needsInstrumentation(text: string): boolean {
	return TFJS_IMPORT.test(text) && !SDK_USE.test(text) && findFitCalls(text).length > 0;
}

/** Every `.fit(` / `.fitDataset(` call in code, with its arguments. */
export function findFitCalls(text: string): FitCall[] {
	const mask = codeMask(text);
	const out: FitCall[] = [];
	const re = /\.\s*(fit|fitDataset)\s*\(/g;
	for (let m = re.exec(text); m !== null; m = re.exec(text)) {
		if (mask[m.index] === 0) {
			continue;
		}
		const open = m.index + m[0].length - 1;
		const close = matchBracket(text, mask, open);
		if (close < 0) {
			continue;
		}
		out.push({ nameStart: m.index + m[0].indexOf(m[1]), method: m[1] as 'fit' | 'fitDataset', open, close, args: splitArgs(text, mask, open, close) });
	}
	return out;
}

/** Names declared before `offset` (const/let/var, destructuring, function parameters), in order of appearance. */
export function visibleNames(text: string, offset: number): string[] {
	const mask = codeMask(text);
	const before = text.slice(0, offset);
	const names: string[] = [];
	const add = (n: string): void => {
		if (/^[A-Za-z_$][\w$]*$/.test(n) && !names.includes(n)) {
			names.push(n);
		}
	};
	const decl = /\b(?:const|let|var)\s+(\{[^}]*\}|\[[^\]]*\]|[A-Za-z_$][\w$]*)/g;
	for (let m = decl.exec(before); m !== null; m = decl.exec(before)) {
		if (mask[m.index] === 0) {
			continue;
		}
		const d = m[1];
		if (d.startsWith('{') || d.startsWith('[')) {
			// `{images: trainImages, labels}` → trainImages, labels
			for (const part of d.slice(1, -1).split(',')) {
				const p = part.split('=')[0].trim();
				const alias = p.includes(':') ? p.split(':')[1].trim() : p.replace(/^\.\.\./, '');
				add(alias);
			}
		} else {
			add(d);
		}
	}
	const params = /\bfunction\b[^(]*\(([^)]*)\)|\(([^()]*)\)\s*=>/g;
	for (let m = params.exec(before); m !== null; m = params.exec(before)) {
		if (mask[m.index] === 0) {
			continue;
		}
		for (const p of (m[1] ?? m[2] ?? '').split(',')) {
			add(p.split('=')[0].split(':')[0].trim());
		}
	}
	return names;
}

/** Picks a held-out input/label pair among visible names (test, val, eval, holdout), if any. */
export function guessProbe(names: readonly string[]): { xs: string; labels: string } | null {
	const heldOut = /test|val|eval|holdout|held/i;
	const inputs = /x|image|input|feature|data/i;
	const labels = /y|label|target|class/i;
	const xs = names.find((n) => heldOut.test(n) && inputs.test(n.replace(heldOut, '')) && !/label|target/i.test(n));
	const ys = names.find((n) => heldOut.test(n) && labels.test(n.replace(heldOut, '')) && n !== xs);
	return xs !== undefined && ys !== undefined ? { xs, labels: ys } : null;
}

/** The namespace identifier the file binds to tfjs (`import * as tf from` / `const tf = require(`), or null. */
export function tfNamespace(text: string): string | null {
	const m = /import\s+\*\s+as\s+([A-Za-z_$][\w$]*)\s+from\s+['"]@tensorflow\/tfjs[\w-]*['"]/.exec(text) ?? /(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*require\s*\(\s*['"]@tensorflow\/tfjs[\w-]*['"]\s*\)/.exec(text);
	return m === null ? null : m[1];
}

function lineStart(text: string, offset: number): number {
	return text.lastIndexOf('\n', offset - 1) + 1;
}

function indentAt(text: string, offset: number): string {
	const s = lineStart(text, offset);
	return /^[ \t]*/.exec(text.slice(s))?.[0] ?? '';
}

/** Where the import goes: after the last top-level import/require line at the start of the file (after a header comment). */
function importPoint(text: string): { offset: number; esm: boolean } {
	const esm = /^\s*import\s[^;]*from\s*['"]/m.test(text) || /^\s*import\s+['"]/m.test(text);
	const mask = codeMask(text);
	const re = esm ? /^import\s[\s\S]*?from\s*['"][^'"]+['"];?[^\n]*\n|^import\s+['"][^'"]+['"];?[^\n]*\n/gm : /^(?:const|let|var)?[^\n]*\brequire\s*\(\s*['"][^'"]+['"]\s*\)[^\n]*\n/gm;
	let last = -1;
	for (let m = re.exec(text); m !== null; m = re.exec(text)) {
		if (mask[m.index] === 0) {
			continue;
		}
		last = m.index + m[0].length;
	}
	if (last >= 0) {
		return { offset: last, esm };
	}
	// No import found: after a leading comment block and a 'use strict' line.
	const lead = /^(?:\s*(?:\/\*[\s\S]*?\*\/|\/\/[^\n]*)\s*)*(?:['"]use strict['"];?\s*\n)?/.exec(text);
	return { offset: lead?.[0].length ?? 0, esm };
}

/** The offset where the statement holding `offset` starts (its line, or earlier when the line continues one). */
function statementStart(text: string, offset: number): number {
	let s = lineStart(text, offset);
	// A line that starts with `.fit(` continues the previous line's expression.
	while (s > 0 && /^\s*\./.test(text.slice(s, offset + 1))) {
		s = lineStart(text, s - 1);
	}
	return s;
}

/** The offset just past the statement that ends after `close` (its `;` or the end of that line). */
function statementEnd(text: string, close: number): number {
	let i = close + 1;
	while (i < text.length && text[i] !== '\n' && text[i] !== ';') {
		i++;
	}
	if (text[i] === ';') {
		i++;
	}
	const nl = text.indexOf('\n', i);
	return nl < 0 ? text.length : nl + 1;
}

/** The edit that puts `lens.callback()` into a call's options. */
function callbackEdit(text: string, call: FitCall, tf: string | null): TextEditSpec {
	const mask = codeMask(text);
	const optIndex = call.method === 'fit' ? 2 : 1;
	const opt = call.args[optIndex];
	const cb = 'lens.callback()';
	const wrap = (expr: string): string =>
		tf === null ? `[${cb}].concat(${expr})` : `[${cb}, ...[].concat(${expr}).map((c) => (c instanceof ${tf}.Callback ? c : new ${tf}.CustomCallback(c)))]`;
	if (opt === undefined) {
		const last = call.args[call.args.length - 1];
		const at = last === undefined ? call.open + 1 : last.end;
		return { start: at, end: at, text: `${last === undefined ? '' : ', '}{ callbacks: [${cb}] }` };
	}
	if (text[opt.start] !== '{') {
		const expr = text.slice(opt.start, opt.end);
		return { start: opt.start, end: opt.end, text: `{ ...${expr}, callbacks: ${wrap(`${expr}.callbacks ?? []`)} }` };
	}
	// An object literal: find a top-level `callbacks` property.
	const objEnd = matchBracket(text, mask, opt.start);
	const props = splitArgs(text, mask, opt.start, objEnd);
	const prop = props.find((p) => /^callbacks\s*:/.test(text.slice(p.start, p.end)) || text.slice(p.start, p.end) === 'callbacks');
	if (prop === undefined) {
		const ind = indentAt(text, props[0]?.start ?? opt.start);
		const multiline = props.length > 0 && text.slice(opt.start, props[0].start).includes('\n');
		return multiline
			? { start: props[0].start, end: props[0].start, text: `callbacks: [${cb}],\n${ind}` }
			: { start: opt.start + 1, end: opt.start + 1, text: ` callbacks: [${cb}],` };
	}
	const src = text.slice(prop.start, prop.end);
	if (src === 'callbacks') {
		return { start: prop.start, end: prop.end, text: `callbacks: ${wrap('callbacks')}` };
	}
	let v = prop.start + src.indexOf(':') + 1;
	while (/\s/.test(text[v])) {
		v++;
	}
	if (text[v] === '[') {
		const inner = matchBracket(text, mask, v);
		const elems = splitArgs(text, mask, v, inner);
		const plain = elems.some((e) => text[e.start] === '{');
		if (!plain) {
			return { start: v + 1, end: v + 1, text: elems.length === 0 ? cb : `${cb}, ` };
		}
	}
	if (text[v] === '{' && tf !== null) {
		// A plain callback object (the common tfjs-examples style): tfjs accepts an array only of tf.Callback
		// instances when its first element is one, so the object is wrapped in CustomCallback.
		const end = matchBracket(text, mask, v);
		return { start: v, end: end + 1, text: `[${cb}, new ${tf}.CustomCallback(${text.slice(v, end + 1)})]` };
	}
	return { start: v, end: prop.end, text: wrap(text.slice(v, prop.end)) };
}

/**
 * Plans the instrumentation of the first training call (or the one at `callIndex`).
 * @returns null when the text does not qualify or the call cannot be read
 */
export function planInstrumentation(text: string, opts: PlanOptions = {}, callIndex = 0): InstrumentPlan | null {
	if (!needsInstrumentation(text)) {
		return null;
	}
	const call = findFitCalls(text)[callIndex];
	if (call === undefined) {
		return null;
	}
	const sdk = opts.sdkModule ?? 'poison-lens/sdk';
	const tf = tfNamespace(text);
	const stmt = statementStart(text, call.nameStart);
	const ind = indentAt(text, stmt);
	const names = visibleNames(text, stmt);
	const argText = (i: number): string | null => {
		const a = call.args[i];
		return a === undefined ? null : text.slice(a.start, a.end);
	};
	const simple = (s: string | null): s is string => s !== null && /^[A-Za-z_$][\w$.]*$/.test(s);
	const knownTrain = call.method === 'fit' && simple(argText(0)) && simple(argText(1));
	const trainXs = knownTrain ? (argText(0) as string) : 'trainXs';
	const trainYs = knownTrain ? (argText(1) as string) : 'trainLabels';
	const held = guessProbe(names);
	const probe = held === null ? { xs: knownTrain ? trainXs : 'heldOutXs', labels: knownTrain ? trainYs : 'heldOutLabels', guessed: false } : { ...held, guessed: true };
	const { offset: impAt, esm } = importPoint(text);
	const importLine = esm ? `import { PoisonLens } from '${sdk}';\n` : `const { PoisonLens } = require('${sdk}');\n`;
	const probeNote = probe.guessed
		? '// Probe: clean held-out inputs and their labels (a seeded 256-row subset is kept).'
		: '// TODO: probe with clean held-out inputs (no test/validation variable is in scope here; the training data stands in).';
	const runName = (opts.runName ?? 'training').replace(/[\\'\n]/g, '');
	const skeleton =
		`${ind}// Poison Lens records this training run under .poison-lens/runs (docs: README, "Instrument a training script").\n` +
		`${ind}const lens = await PoisonLens.start({\n` +
		`${ind}  runName: '${runName}',\n` +
		`${ind}  ${probeNote}\n` +
		`${ind}  probe: { xs: ${probe.xs}, labels: ${probe.labels} },\n` +
		`${ind}  // The rows exactly as trained (poisoned labels included), for blind mode.\n` +
		(knownTrain
			? `${ind}  trainSample: { xs: ${trainXs}, labels: ${trainYs} },\n`
			: `${ind}  // TODO: trainSample: { xs: trainXs, labels: trainLabels }, once the training rows are in memory (a dataset streams them).\n`) +
		`${ind}  checkpointEvery: 'epoch',\n` +
		`${ind}});\n`;
	const end = statementEnd(text, call.close);
	const edits: TextEditSpec[] = [
		{ start: impAt, end: impAt, text: importLine },
		{ start: stmt, end: stmt, text: skeleton },
		callbackEdit(text, call, tf),
		{ start: end, end, text: `${ind}await lens.end();\n` },
	];
	return { call, edits, probe, train: { xs: trainXs, labels: trainYs } };
}

/** Applies non-overlapping edits to the text (for tests and previews). */
export function applyEdits(text: string, edits: readonly TextEditSpec[]): string {
	const sorted = [...edits].sort((a, b) => b.start - a.start || b.end - a.end);
	let out = text;
	for (const e of sorted) {
		out = out.slice(0, e.start) + e.text + out.slice(e.end);
	}
	return out;
}
