/**
 * Background writer for one run folder: a single serial queue, so events keep their order and a checkpoint's
 * `checkpoint-written` line is appended only after its folder is complete.
 *
 * The first failed write (unwritable folder, full disk …) produces exactly one warning; later writes are dropped and
 * training goes on. Nothing here ever throws into the training loop.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EVENTS_FILE, formatEventLine } from '../protocol/runFormat';
import type { RunEvent } from '../protocol/runFormat';

/** Receives the SDK's one warning per run. */
export type WarningSink = (message: string) => void;

/** Serial background writer for a run folder. */
export class RunWriter {
	private chain: Promise<void> = Promise.resolve();
	private pendingLines: string[] = [];
	private flushQueued = false;
	private pendingTasks = 0;
	private failure: Error | undefined;
	private lastFlush = 0;

	/**
	 * @param flushIntervalMs how long ordinary event lines may wait before they are written (default 250 ms)
	 */
	constructor(
		readonly runDir: string,
		private readonly warn: WarningSink,
		private readonly flushIntervalMs = 250,
	) {}

	/** True when event lines wait to be written. */
	get hasPendingLines(): boolean {
		return this.pendingLines.length > 0;
	}

	/** True once a write has failed; the run folder is then incomplete. */
	get failed(): boolean {
		return this.failure !== undefined;
	}

	/** Number of queued tasks not yet finished (lets callers decide whether to yield to the event loop). */
	get pending(): number {
		return this.pendingTasks;
	}

	/** Reports a failure (once) and switches the writer off. */
	fail(err: unknown, what: string): void {
		if (this.failure !== undefined) {
			return;
		}
		this.failure = err instanceof Error ? err : new Error(String(err));
		const code = (err as NodeJS.ErrnoException).code;
		const hint =
			code === 'ENOSPC'
				? ' (the disk is full)'
				: code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
					? ' (the folder is not writable)'
					: '';
		this.warn(
			`[poison-lens] cannot ${what} in ${this.runDir}${hint}: ${this.failure.message}. ` +
				'Training continues, but this run folder will be incomplete.',
		);
	}

	/** Queues a task; it runs after every earlier task. Failures switch the writer off with one warning. */
	enqueue(what: string, task: () => Promise<void>): void {
		if (this.failure !== undefined) {
			return;
		}
		this.pendingTasks++;
		this.chain = this.chain
			.then(async () => {
				if (this.failure === undefined) {
					await task();
				}
			})
			.catch((err: unknown) => this.fail(err, what))
			.finally(() => {
				this.pendingTasks--;
			});
	}

	/**
	 * Appends one event line. Lines are gathered and written together at most every `flushIntervalMs` (one append per
	 * interval keeps the cost per training step to a string push); `urgent` lines (checkpoint-written, end, error)
	 * are queued for writing at once.
	 */
	appendEvent(event: RunEvent, urgent = false): void {
		if (this.failure !== undefined) {
			return;
		}
		this.pendingLines.push(formatEventLine(event));
		const now = Date.now();
		if (!this.flushQueued && (urgent || now - this.lastFlush >= this.flushIntervalMs)) {
			this.queueFlush();
		}
	}

	private queueFlush(): void {
		this.flushQueued = true;
		this.lastFlush = Date.now();
		this.enqueue('append to events.jsonl', async () => {
			this.flushQueued = false;
			const text = this.pendingLines.join('');
			this.pendingLines = [];
			if (text.length > 0) {
				await fs.promises.appendFile(path.join(this.runDir, EVENTS_FILE), text);
			}
		});
	}

	/** Resolves when every queued write has finished (or the writer has failed). */
	async flush(): Promise<void> {
		// A task may queue another (an event flush after a checkpoint), so loop until the chain is quiet.
		for (;;) {
			if (this.pendingLines.length > 0 && !this.flushQueued && this.failure === undefined) {
				this.queueFlush();
			}
			const current = this.chain;
			await current;
			if (current === this.chain && (this.pendingLines.length === 0 || this.failure !== undefined)) {
				return;
			}
		}
	}
}

/**
 * Writes a file atomically: a temporary sibling, then rename. Readers never see half a file.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
	const tmp = `${file}.tmp-${process.pid}`;
	await fs.promises.writeFile(tmp, data);
	await fs.promises.rename(tmp, file);
}
