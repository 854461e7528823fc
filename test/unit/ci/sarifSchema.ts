/**
 * The vendored SARIF 2.1.0 JSON Schema (OASIS, test/fixtures/sarif/) compiled with ajv's draft-04 dialect (the
 * schema declares draft-04) and ajv-formats (it uses uri, uri-reference and date-time).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';

let compiled: ValidateFunction | undefined;

/** The compiled validator (strict mode off: the OASIS schema has keywords ajv's strict mode rejects). */
export function sarifValidator(): ValidateFunction {
	if (compiled === undefined) {
		const file = path.resolve(__dirname, '../../fixtures/sarif/sarif-schema-2.1.0.json');
		const schema = JSON.parse(fs.readFileSync(file, 'utf8')) as object;
		const ajv = new Ajv({ allErrors: true, strict: false });
		addFormats(ajv);
		compiled = ajv.compile(schema);
	}
	return compiled;
}

/** Validation errors as text (empty when valid). */
export function sarifErrors(log: unknown): string {
	const validate = sarifValidator();
	return validate(log) ? '' : JSON.stringify(validate.errors, null, 1).slice(0, 3000);
}
