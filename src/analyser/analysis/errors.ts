import { type AnalyserErrorCode, errorCodeName } from '../../protocol/analyser';

/**
 * A failure with a protocol error code. Checkpoint-level failures (missing, corrupt, schema
 * mismatch, NaN weights) become the record's `error` text; run-level ones answer the request.
 */
export class AnalysisError extends Error {
	constructor(
		readonly code: AnalyserErrorCode,
		message: string,
	) {
		super(message);
		this.name = 'AnalysisError';
	}

	/** "CheckpointCorrupt: <message>", the form stored in analysis.jsonl. */
	toRecordText(): string {
		return `${errorCodeName(this.code)}: ${this.message}`;
	}
}
