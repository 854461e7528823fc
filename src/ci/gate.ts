/**
 * CI gates: which findings or verdicts fail a step (`--fail-on`). Pure.
 *
 * Exit statuses (docs/ci.md): `analyse` exits 3 when the verdict is in its `--fail-on` list; `scan` exits 1 when a
 * finding has the `--fail-on` severity or a worse one (default `error`, as before; `none` never fails on findings).
 */
import type { Problem, Severity } from '../datasets/problem';
import type { Verdict } from '../protocol/analysisRecord';

/** Exit status of `analyse` when the verdict is in the `--fail-on` list. */
export const EXIT_VERDICT_GATE = 3;
/** Exit status of `scan` when a finding reaches the `--fail-on` severity. */
export const EXIT_FINDINGS_GATE = 1;

/** `scan --fail-on` values, most to least severe, then `none`. */
export const SCAN_FAIL_ON = ['error', 'warning', 'information', 'none'] as const;
export type ScanFailOn = (typeof SCAN_FAIL_ON)[number];

const RANK: Record<Severity, number> = { error: 0, warning: 1, information: 2 };

/** Whether any finding (the problem-cap summary aside) is at least as severe as `failOn`. */
export function scanGateFails(problems: readonly Pick<Problem, 'severity' | 'code'>[], failOn: ScanFailOn): boolean {
	if (failOn === 'none') {
		return false;
	}
	return problems.some((p) => p.code !== 'problem-cap' && RANK[p.severity] <= RANK[failOn]);
}

/** Whether the verdict is one the step fails on. */
export function verdictGateFails(verdict: Verdict, failOn: readonly Verdict[]): boolean {
	return failOn.includes(verdict);
}
