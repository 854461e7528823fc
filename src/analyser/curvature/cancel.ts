import { CurvatureCancelledError, type CancelSignal } from './types';

/** True when the signal has fired. */
export function isCancelled(signal: CancelSignal | undefined): boolean {
	if (signal === undefined) {
		return false;
	}
	return 'aborted' in signal ? signal.aborted : signal.isCancellationRequested;
}

/**
 * Yields to the event loop (so a cancel notification arriving over IPC can be processed) and
 * throws {@link CurvatureCancelledError} if the signal fired.
 */
export async function checkpoint(signal: CancelSignal | undefined, where: string, matvecs: number): Promise<void> {
	if (signal !== undefined) {
		await new Promise<void>((resolve) => setImmediate(resolve));
	}
	if (isCancelled(signal)) {
		throw new CurvatureCancelledError(where, matvecs);
	}
}
