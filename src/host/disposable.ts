import type * as vscode from 'vscode';

/**
 * Base class for objects that own disposables (custom-editor-sample `dispose.ts`): `_register` adds a child,
 * disposing it at once if the owner is already gone; `dispose` is idempotent and releases children in reverse order.
 */
export abstract class Disposable implements vscode.Disposable {
	private _isDisposed = false;
	private readonly _children: vscode.Disposable[] = [];

	get isDisposed(): boolean {
		return this._isDisposed;
	}

	protected _register<T extends vscode.Disposable>(value: T): T {
		if (this._isDisposed) {
			value.dispose();
		} else {
			this._children.push(value);
		}
		return value;
	}

	dispose(): void {
		if (this._isDisposed) {
			return;
		}
		this._isDisposed = true;
		while (this._children.length > 0) {
			this._children.pop()?.dispose();
		}
	}
}
