/**
 * One-click instrumentation in the editor: a CodeLens and a quick-fix code action "Record this training with
 * Poison Lens" on `model.fit(` / `fitDataset(` in TS/JS files that import TensorFlow.js without the SDK. The edit
 * (src/instrument/plan.ts) is applied as one WorkspaceEdit, so one undo reverts it.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { findFitCalls, needsInstrumentation, planInstrumentation } from '../../instrument/plan';
import { openInstrumentationHelp } from '../runs/runPicker';

export const INSTRUMENT_SCRIPT = 'poisonLens.instrumentScript';
const TITLE = 'Record this training with Poison Lens';
const SELECTOR: vscode.DocumentSelector = ['javascript', 'typescript', 'javascriptreact', 'typescriptreact'].map((language) => ({ language }));

function sdkModule(uri: vscode.Uri): string {
	return vscode.workspace.getConfiguration('poisonLens.instrument', uri).get<string>('sdkModule', 'poison-lens/sdk') || 'poison-lens/sdk';
}

/** The CodeLens above each training call. */
class InstrumentLenses implements vscode.CodeLensProvider {
	provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
		const text = doc.getText();
		if (!needsInstrumentation(text)) {
			return [];
		}
		return findFitCalls(text).map((c, i) => {
			const pos = doc.positionAt(c.nameStart);
			return new vscode.CodeLens(new vscode.Range(pos.line, 0, pos.line, 0), { title: `$(record) ${TITLE}`, command: INSTRUMENT_SCRIPT, arguments: [doc.uri, i], tooltip: 'Insert the Poison Lens SDK: import, PoisonLens.start, the callback and lens.end() (one undoable edit)' });
		});
	}
}

/** The same as a code action on the line of a training call. */
class InstrumentActions implements vscode.CodeActionProvider {
	static readonly kinds = [vscode.CodeActionKind.QuickFix, vscode.CodeActionKind.RefactorRewrite];

	provideCodeActions(doc: vscode.TextDocument, range: vscode.Range | vscode.Selection): vscode.CodeAction[] {
		const text = doc.getText();
		if (!needsInstrumentation(text)) {
			return [];
		}
		const calls = findFitCalls(text);
		const i = calls.findIndex((c) => {
			const start = doc.positionAt(c.nameStart).line;
			const end = doc.positionAt(c.close).line;
			return range.start.line <= end && range.end.line >= start;
		});
		if (i < 0) {
			return [];
		}
		const action = new vscode.CodeAction(TITLE, vscode.CodeActionKind.RefactorRewrite);
		action.command = { title: TITLE, command: INSTRUMENT_SCRIPT, arguments: [doc.uri, i] };
		return [action];
	}
}

/**
 * Applies the instrumentation to `uri` (default: the active editor) at training call `callIndex`.
 * @returns true when the edit was applied
 */
export async function instrumentScript(extensionUri: vscode.Uri, uriArg?: unknown, callIndexArg?: unknown): Promise<boolean> {
	const uri = uriArg instanceof vscode.Uri ? uriArg : vscode.window.activeTextEditor?.document.uri;
	const doc = uri === undefined ? undefined : await vscode.workspace.openTextDocument(uri);
	const callIndex = typeof callIndexArg === 'number' ? callIndexArg : 0;
	const plan = doc === undefined ? null : planInstrumentation(doc.getText(), { sdkModule: sdkModule(doc.uri), runName: path.basename(doc.fileName).replace(/\.[^.]+$/, '') }, callIndex);
	if (doc === undefined || plan === null) {
		const HELP = 'How to instrument a script';
		const choice = await vscode.window.showInformationMessage(
			'Poison Lens: open a TensorFlow.js training script (one that imports @tensorflow/tfjs and calls model.fit or model.fitDataset, without the Poison Lens SDK) to record it with one click.',
			HELP,
		);
		if (choice === HELP) {
			await openInstrumentationHelp(extensionUri);
		}
		return false;
	}
	const edit = new vscode.WorkspaceEdit();
	for (const e of plan.edits) {
		const range = new vscode.Range(doc.positionAt(e.start), doc.positionAt(e.end));
		edit.replace(doc.uri, range, e.text, { label: TITLE, needsConfirmation: false });
	}
	const ok = await vscode.workspace.applyEdit(edit);
	if (!ok) {
		void vscode.window.showErrorMessage(`Poison Lens: could not edit ${vscode.workspace.asRelativePath(doc.uri)}.`);
		return false;
	}
	const editor = await vscode.window.showTextDocument(doc);
	const start = doc.getText().indexOf('const lens = await PoisonLens.start(');
	if (start >= 0) {
		const pos = doc.positionAt(start);
		editor.selection = new vscode.Selection(pos, pos);
		editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenter);
	}
	void vscode.window.showInformationMessage(
		plan.probe.guessed
			? `Poison Lens: recording added; the probe uses ${plan.probe.xs}/${plan.probe.labels}, the training sample ${plan.train.xs}/${plan.train.labels}. Check them, then train.`
			: `Poison Lens: recording added. No held-out variable is in scope, so the probe uses the training data for now: replace it with clean test inputs (see the TODO).`,
	);
	return true;
}

export function registerInstrumentation(context: vscode.ExtensionContext): void {
	context.subscriptions.push(
		vscode.languages.registerCodeLensProvider(SELECTOR, new InstrumentLenses()),
		vscode.languages.registerCodeActionsProvider(SELECTOR, new InstrumentActions(), { providedCodeActionKinds: InstrumentActions.kinds }),
		vscode.commands.registerCommand(INSTRUMENT_SCRIPT, (uri?: unknown, callIndex?: unknown) => instrumentScript(context.extensionUri, uri, callIndex)),
	);
}
