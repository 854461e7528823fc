/**
 * Dataset diagnostics in the editor: CSV/TSV/JSONL files get squiggles for structure problems and for
 * dirty-label / near-clone poisoning evidence, with a hover showing the evidence and quick fixes ("Show cluster",
 * "Quarantine rows", "Ignore this finding").
 *
 * Scanning runs in a worker thread (dist/scanWorker.js), debounced, with window progress; the host only converts the
 * capped problem list into Diagnostics. Everything here reads files only, so it also runs in Restricted Mode; the
 * analyser-based per-row scores ({@link RowScoreProvider}, ./rowScores.ts) are consulted only in trusted workspaces.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { POISON_CODES } from '../../datasets/problem';
import type { Problem } from '../../datasets/problem';
import { isDatasetFile } from '../../datasets/scan';
import type { ScanResult } from '../../datasets/scan';
import { scanInWorker } from './scanClient';
import type { ScanSource } from '../../protocol/scan';
import type { ScanOptions } from '../../datasets/table';
import { Disposable } from '../disposable';
import { DIAGNOSTIC_SOURCE, fingerprint, problemKey, problemRange, toDiagnostic } from './convert';
import { buildQuarantineEdit } from './quarantine';
import type { RowSpan } from './quarantine';

/** Command ids (internal ones are invoked by code actions with arguments). */
export const DatasetCommands = {
	showCluster: 'poisonLens.dataset.showCluster',
	quarantineRows: 'poisonLens.dataset.quarantineRows',
	ignoreFinding: 'poisonLens.dataset.ignoreFinding',
	rescan: 'poisonLens.dataset.rescan',
	resetIgnored: 'poisonLens.dataset.resetIgnored',
} as const;

const IGNORED_KEY = 'poisonLens.dataset.ignored';
const LANGUAGES = new Set(['csv', 'tsv', 'jsonl', 'ndjson']);

/**
 * Hook for the analyser-based per-row scores (a centred spectral signature of input gradients, per class; see
 * ./rowScores.ts), which need the analyser process. The provider is consulted after each scan, once the scan's own
 * findings are shown, and only when the workspace is trusted, because it loads model checkpoints from the workspace.
 */
export interface RowScoreProvider {
	/** Extra problems (code, threshold in the evidence) for a scanned dataset, or [] when no run of it exists. */
	scoreRows(uri: vscode.Uri, result: ScanResult, token: vscode.CancellationToken): Promise<Problem[]>;
}

let rowScoreProvider: RowScoreProvider | undefined;

/** Registers the analyser-based row scorer (see {@link RowScoreProvider}). */
export function setRowScoreProvider(provider: RowScoreProvider | undefined): void {
	rowScoreProvider = provider;
}

/**
 * Where a file's image paths may lead: inside its workspace folder (or its own folder when it is in none). Outside
 * only in a trusted workspace whose setting `poisonLens.dataset.imagesOutsideWorkspace` allows it.
 */
function imagePolicy(uri: vscode.Uri): { baseDir: string; imageRoot: string; imagesOutside: boolean } {
	const baseDir = path.dirname(uri.fsPath);
	const folder = vscode.workspace.getWorkspaceFolder(uri);
	const allow = vscode.workspace.getConfiguration('poisonLens.dataset', uri).get<boolean>('imagesOutsideWorkspace', false);
	return { baseDir, imageRoot: folder?.uri.scheme === 'file' ? folder.uri.fsPath : baseDir, imagesOutside: vscode.workspace.isTrusted && allow };
}

/** Whether a document is a dataset we scan (files and untitled buffers; not git/diff views of them). */
export function isDatasetDocument(doc: vscode.TextDocument): boolean {
	if (doc.uri.scheme === 'untitled') {
		return LANGUAGES.has(doc.languageId) || isDatasetFile(doc.uri.path);
	}
	return doc.uri.scheme === 'file' && isDatasetFile(doc.uri.path);
}

interface Settings {
	readonly enabled: boolean;
	readonly debounceMs: number;
	readonly maxUnsavedScanBytes: number;
	readonly options: ScanOptions;
}

function readSettings(uri: vscode.Uri): Settings {
	const c = vscode.workspace.getConfiguration('poisonLens.dataset', uri);
	const labelColumn = c.get<string>('labelColumn', '').trim();
	const labels = c.get<string[]>('labels', []).filter((l) => typeof l === 'string' && l !== '');
	return {
		enabled: c.get<boolean>('enabled', true),
		debounceMs: Math.max(0, c.get<number>('debounceMs', 500)),
		maxUnsavedScanBytes: c.get<number>('maxUnsavedScanBytes', 20_000_000),
		options: {
			labelColumn: labelColumn === '' ? undefined : labelColumn,
			labels: labels.length > 0 ? labels : undefined,
			maxProblems: Math.max(1, Math.floor(c.get<number>('maxProblems', 1000))),
			radiusFactor: c.get<number>('radiusFactor', 0.13),
		},
	};
}

interface FileState {
	timer?: NodeJS.Timeout;
	abort?: AbortController;
	result?: ScanResult;
	/** Problems by {@link problemKey}, for hovers and code actions. */
	byKey: Map<string, Problem>;
	/** Last failure shown, so a file that keeps failing while being edited does not repeat the same popup. */
	lastError?: string;
	/** Document version the current result was computed from; quick fixes that move rows refuse stale results. */
	scannedVersion?: number;
}

/** Owns the diagnostic collection and everything that keeps it current. */
class DatasetDiagnostics extends Disposable implements vscode.HoverProvider, vscode.CodeActionProvider {
	private readonly files = new Map<string, FileState>();

	constructor(private readonly context: vscode.ExtensionContext, private readonly collection: vscode.DiagnosticCollection) {
		super();
		const selector: vscode.DocumentSelector = [
			{ scheme: 'file', pattern: '**/*.{csv,tsv,tab,jsonl,ndjson}' },
			{ scheme: 'untitled', language: 'csv' },
			{ scheme: 'untitled', language: 'tsv' },
			{ scheme: 'untitled', language: 'jsonl' },
		];
		this._register(vscode.languages.registerHoverProvider(selector, this));
		this._register(vscode.languages.registerCodeActionsProvider(selector, this, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }));
		this._register(vscode.workspace.onDidOpenTextDocument((d) => this.scheduleDoc(d, 0)));
		this._register(vscode.workspace.onDidChangeTextDocument((e) => {
			if (e.contentChanges.length > 0) {
				this.scheduleDoc(e.document, readSettings(e.document.uri).debounceMs);
			}
		}));
		this._register(vscode.workspace.onDidSaveTextDocument((d) => this.scheduleDoc(d, 0)));
		this._register(vscode.workspace.onDidCloseTextDocument((d) => {
			if (!this.inTab(d.uri)) {
				this.forget(d.uri);
			}
		}));
		// VS Code gives extensions no TextDocument for files over 50 MB, so such datasets are found through their tabs,
		// scanned from disk, and rescanned when the file changes on disk.
		this._register(vscode.window.tabGroups.onDidChangeTabs((e) => {
			for (const t of [...e.opened, ...e.changed]) {
				const uri = tabUri(t);
				if (uri && !this.files.has(uri.toString())) {
					this.schedule(uri, 0);
				}
			}
			for (const t of e.closed) {
				const uri = tabUri(t);
				if (uri && !this.documentOf(uri) && !this.inTab(uri)) {
					this.forget(uri);
				}
			}
		}));
		const watcher = this._register(vscode.workspace.createFileSystemWatcher('**/*.{csv,tsv,tab,jsonl,ndjson}', true, false, true));
		this._register(watcher.onDidChange((uri) => {
			if (this.files.has(uri.toString()) && !this.documentOf(uri)) {
				this.schedule(uri, readSettings(uri).debounceMs);
			}
		}));
		this._register(vscode.workspace.onDidChangeConfiguration((e) => {
			if (e.affectsConfiguration('poisonLens.dataset')) {
				this.rescanAll();
			}
		}));
		this._register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.rescanAll()));
		this._register(vscode.commands.registerCommand(DatasetCommands.showCluster, (uri: string, line: number, related: number[]) =>
			this.showCluster(uri, line, related)));
		this._register(vscode.commands.registerCommand(DatasetCommands.quarantineRows, (uri: string, rows: RowSpan[]) => this.quarantine(uri, rows)));
		this._register(vscode.commands.registerCommand(DatasetCommands.ignoreFinding, (uri: string, line: number, code: string) =>
			this.ignore(uri, line, code)));
		this._register(vscode.commands.registerCommand(DatasetCommands.rescan, (target?: unknown) => {
			// With a URI (string): that file, e.g. when a live run's suspects changed; without: the active file.
			if (typeof target === 'string' && this.files.has(target)) {
				this.schedule(vscode.Uri.parse(target), 0);
				return;
			}
			const doc = vscode.window.activeTextEditor?.document;
			const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
			const uri = doc && isDatasetDocument(doc) ? doc.uri : tab ? tabUri(tab) : undefined;
			if (uri) {
				this.schedule(uri, 0);
			} else {
				void vscode.window.showInformationMessage('Poison Lens: open a .csv, .tsv or .jsonl file to scan it.');
			}
		}));
		this._register(vscode.commands.registerCommand(DatasetCommands.resetIgnored, async () => {
			await this.context.workspaceState.update(IGNORED_KEY, undefined);
			this.rescanAll();
		}));
		this.rescanAll();
	}

	override dispose(): void {
		for (const s of this.files.values()) {
			clearTimeout(s.timer);
			s.abort?.abort();
		}
		this.files.clear();
		super.dispose();
	}

	private rescanAll(): void {
		const seen = new Set<string>();
		for (const d of vscode.workspace.textDocuments) {
			if (isDatasetDocument(d)) {
				seen.add(d.uri.toString());
				this.schedule(d.uri, 0);
			}
		}
		for (const g of vscode.window.tabGroups.all) {
			for (const t of g.tabs) {
				const uri = tabUri(t);
				if (uri && !seen.has(uri.toString())) {
					seen.add(uri.toString());
					this.schedule(uri, 0);
				}
			}
		}
	}

	/** The open TextDocument of a URI, if VS Code gave the extension one. */
	private documentOf(uri: vscode.Uri): vscode.TextDocument | undefined {
		const key = uri.toString();
		return vscode.workspace.textDocuments.find((d) => d.uri.toString() === key);
	}

	private inTab(uri: vscode.Uri): boolean {
		const key = uri.toString();
		return vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => tabUri(t)?.toString() === key));
	}

	private state(uri: vscode.Uri): FileState {
		const key = uri.toString();
		let s = this.files.get(key);
		if (!s) {
			s = { byKey: new Map() };
			this.files.set(key, s);
		}
		return s;
	}

	private forget(uri: vscode.Uri): void {
		const s = this.files.get(uri.toString());
		if (s) {
			clearTimeout(s.timer);
			s.abort?.abort();
			this.files.delete(uri.toString());
		}
		this.collection.delete(uri);
	}

	private scheduleDoc(doc: vscode.TextDocument, delayMs: number): void {
		if (isDatasetDocument(doc)) {
			this.schedule(doc.uri, delayMs);
		}
	}

	/** Debounces a scan of `uri`; a newer request cancels the pending timer and any scan in flight. */
	private schedule(uri: vscode.Uri, delayMs: number): void {
		if (this.isDisposed) {
			return;
		}
		const settings = readSettings(uri);
		if (!settings.enabled) {
			this.forget(uri);
			return;
		}
		const s = this.state(uri);
		clearTimeout(s.timer);
		s.timer = setTimeout(() => {
			s.timer = undefined;
			void this.scan(uri, settings);
		}, delayMs);
	}

	private async scan(uri: vscode.Uri, settings: Settings): Promise<void> {
		const s = this.state(uri);
		s.abort?.abort();
		const abort = new AbortController();
		s.abort = abort;
		const doc = this.documentOf(uri);
		const version = doc?.version;
		let source: ScanSource;
		if ((!doc || !doc.isDirty) && uri.scheme === 'file') {
			// Saved (or too large to sync) file: the worker reads it from disk, so the host never copies its text.
			source = { path: uri.fsPath };
		} else if (doc) {
			const text = doc.getText();
			if (text.length > settings.maxUnsavedScanBytes) {
				return; // keep the last diagnostics; the file is scanned again on save
			}
			source = { bytes: new TextEncoder().encode(text) };
		} else {
			return;
		}
		const name = path.posix.basename(uri.path);
		try {
			const result = await vscode.window.withProgress(
				{ location: vscode.ProgressLocation.Window, title: `Poison Lens: scanning ${name}` },
				(progress) => {
					let reported = 0;
					return scanInWorker({
						workerPath: this.context.asAbsolutePath(path.join('dist', 'scanWorker.js')),
						fileName: name,
						source,
						options: uri.scheme === 'file' ? { ...settings.options, ...imagePolicy(uri) } : settings.options,
						signal: abort.signal,
						onProgress: (fraction, phase) => {
							const pct = Math.round(fraction * 100);
							progress.report({ message: `${phase} ${pct} %`, increment: Math.max(0, pct - reported) });
							reported = Math.max(reported, pct);
						},
					});
				});
			if (abort.signal.aborted || this.isDisposed || !this.files.has(uri.toString())) {
				return;
			}
			s.result = result;
			s.scannedVersion = version;
			s.lastError = undefined;
			this.publish(uri);
			// Row scores need the analyser (seconds to a minute): the scan's own findings are shown first.
			if (rowScoreProvider && vscode.workspace.isTrusted) {
				const cts = new vscode.CancellationTokenSource();
				abort.signal.addEventListener('abort', () => cts.cancel());
				try {
					const extra = await rowScoreProvider.scoreRows(uri, result, cts.token);
					if (extra.length > 0 && !abort.signal.aborted && !this.isDisposed && s.result === result) {
						s.result = { ...result, problems: [...result.problems, ...extra].sort((a, b) => a.line - b.line || a.column - b.column), totalProblems: result.totalProblems + extra.length };
						this.publish(uri);
					}
				} finally {
					cts.dispose();
				}
			}
		} catch (e) {
			if (e instanceof Error && e.name === 'AbortError') {
				return;
			}
			const message = `Poison Lens could not scan ${name}: ${e instanceof Error ? e.message : String(e)}`;
			if (s.lastError !== message) {
				s.lastError = message;
				void vscode.window.showWarningMessage(message);
			}
		} finally {
			if (s.abort === abort) {
				s.abort = undefined;
			}
		}
	}

	/** Publishes the cached result of a file, minus ignored findings (which need the document's text). */
	private publish(uri: vscode.Uri): void {
		const s = this.files.get(uri.toString());
		if (!s?.result) {
			return;
		}
		const doc = this.documentOf(uri);
		const ignored = new Set(this.context.workspaceState.get<string[]>(IGNORED_KEY, []));
		const diagnostics: vscode.Diagnostic[] = [];
		s.byKey.clear();
		for (const p of s.result.problems) {
			if (doc && ignored.size > 0 && p.line <= doc.lineCount && ignored.has(this.ignoreKey(doc, p.line, p.code))) {
				continue;
			}
			s.byKey.set(problemKey(p.line - 1, p.column - 1, p.code), p);
			diagnostics.push(toDiagnostic(p, uri, doc));
		}
		this.collection.set(uri, diagnostics);
	}

	private ignoreKey(doc: vscode.TextDocument, line: number, code: string): string {
		return `${vscode.workspace.asRelativePath(doc.uri)}|${fingerprint(code, doc.lineAt(line - 1).text)}`;
	}

	private problemsAt(doc: vscode.TextDocument, range: vscode.Range): Problem[] {
		const s = this.files.get(doc.uri.toString());
		if (!s) {
			return [];
		}
		return [...s.byKey.values()].filter((p) => problemRange(p, doc).intersection(range) !== undefined
			|| (p.line - 1 <= range.start.line && range.start.line <= (p.endLine ?? p.line) - 1));
	}

	provideHover(doc: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
		const found = this.problemsAt(doc, new vscode.Range(position, position)).filter((p) => p.evidence.length > 0);
		if (found.length === 0) {
			return undefined;
		}
		const md = new vscode.MarkdownString();
		for (const p of found) {
			md.appendMarkdown(`**Poison Lens** \`${p.code}\`\n\n`);
			md.appendText(p.message);
			md.appendMarkdown('\n\n| evidence | |\n|---|---|\n');
			for (const e of p.evidence) {
				md.appendMarkdown(`| ${escapeCell(e.label)} | ${escapeCell(e.value)} |\n`);
			}
			md.appendMarkdown('\n');
		}
		return new vscode.Hover(md);
	}

	provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
		const s = this.files.get(doc.uri.toString());
		if (!s) {
			return [];
		}
		const actions: vscode.CodeAction[] = [];
		for (const d of context.diagnostics) {
			if (d.source !== DIAGNOSTIC_SOURCE || typeof d.code !== 'string') {
				continue;
			}
			const p = s.byKey.get(problemKey(d.range.start.line, d.range.start.character, d.code));
			if (!p) {
				continue;
			}
			if (p.related.length > 0) {
				const show = new vscode.CodeAction(`Show cluster (${p.related.length + 1} rows)`, vscode.CodeActionKind.QuickFix);
				show.diagnostics = [d];
				show.command = { command: DatasetCommands.showCluster, title: show.title, arguments: [doc.uri.toString(), p.line, p.related] };
				actions.push(show);
			}
			if (POISON_CODES.has(p.code)) {
				// Move this row and every partner that is itself flagged (a near-clone cluster moves as a whole; the
				// clean source of a dirty-label clone stays).
				const flagged = new Map<number, Problem>();
				for (const q of s.byKey.values()) {
					if (POISON_CODES.has(q.code)) {
						flagged.set(q.line, q);
					}
				}
				const rows: RowSpan[] = [p, ...p.related.map((l) => flagged.get(l)).filter((q): q is Problem => q !== undefined)]
					.map((q) => ({ line: q.line, endLine: q.endLine ?? q.line }));
				const move = new vscode.CodeAction(`Quarantine ${rows.length === 1 ? 'this row' : `${rows.length} rows`} to ${path.posix.basename(doc.uri.path).replace(/(\.[^.]+)$/, '.quarantine$1')}`,
					vscode.CodeActionKind.QuickFix);
				move.diagnostics = [d];
				move.command = { command: DatasetCommands.quarantineRows, title: move.title, arguments: [doc.uri.toString(), rows] };
				actions.push(move);
			}
			const ignore = new vscode.CodeAction('Ignore this finding', vscode.CodeActionKind.QuickFix);
			ignore.diagnostics = [d];
			ignore.command = { command: DatasetCommands.ignoreFinding, title: ignore.title, arguments: [doc.uri.toString(), p.line, p.code] };
			actions.push(ignore);
		}
		return actions;
	}

	private async showCluster(uriText: string, line: number, related: number[]): Promise<void> {
		const uri = vscode.Uri.parse(uriText);
		const locations = related.map((l) => new vscode.Location(uri, new vscode.Position(l - 1, 0)));
		await vscode.commands.executeCommand('editor.action.peekLocations', uri, new vscode.Position(line - 1, 0), locations, 'peek');
	}

	private async quarantine(uriText: string, rows: RowSpan[]): Promise<void> {
		const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(uriText));
		const state = this.files.get(doc.uri.toString());
		if (state?.scannedVersion !== undefined && state.scannedVersion !== doc.version) {
			void vscode.window.showWarningMessage('Poison Lens: the file changed since it was scanned; try again once the rescan has finished.');
			return;
		}
		const hasHeader = state?.result?.hasHeader ?? false;
		const edit = await buildQuarantineEdit(doc, rows, hasHeader);
		if (edit.size === 0 || !await vscode.workspace.applyEdit(edit)) {
			void vscode.window.showWarningMessage(`Poison Lens: could not quarantine rows of ${path.posix.basename(doc.uri.path)} (the file changed?)`);
		}
	}

	private async ignore(uriText: string, line: number, code: string): Promise<void> {
		const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(uriText));
		if (line > doc.lineCount) {
			return;
		}
		const ignored = new Set(this.context.workspaceState.get<string[]>(IGNORED_KEY, []));
		ignored.add(this.ignoreKey(doc, line, code));
		await this.context.workspaceState.update(IGNORED_KEY, [...ignored]);
		this.publish(doc.uri);
	}
}

/** The dataset file shown in a tab, if any. */
function tabUri(tab: vscode.Tab): vscode.Uri | undefined {
	const input = tab.input;
	return input instanceof vscode.TabInputText && input.uri.scheme === 'file' && isDatasetFile(input.uri.path) ? input.uri : undefined;
}

function escapeCell(s: string): string {
	return s.replace(/[\\|*_`<>[\]]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
}

/** Registers dataset diagnostics (called from `activate`). */
export function registerDatasetDiagnostics(context: vscode.ExtensionContext): void {
	const collection = vscode.languages.createDiagnosticCollection('poison-lens-datasets');
	context.subscriptions.push(collection);
	context.subscriptions.push(new DatasetDiagnostics(context, collection));
}
