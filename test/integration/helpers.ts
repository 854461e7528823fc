import * as vscode from 'vscode';

export const EXTENSION_ID = 'poison-lens.poison-lens';

/** Polls `probe` until it returns a defined value or the deadline passes (never a fixed sleep). */
export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await probe();
		if (value !== undefined) {
			return value;
		}
		if (Date.now() > deadline) {
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		}
		await new Promise((r) => setTimeout(r, 100));
	}
}

/** The extension under test, activated. */
export async function activeExtension(): Promise<vscode.Extension<unknown>> {
	const ext = vscode.extensions.getExtension(EXTENSION_ID);
	if (!ext) {
		throw new Error(`extension ${EXTENSION_ID} is not loaded`);
	}
	await ext.activate();
	return ext;
}
