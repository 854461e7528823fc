/**
 * The run format's JSON Schema files (src/protocol/schemas/*.schema.json), for tools outside Poison Lens. They
 * are written from the schemas in runFormat.ts (`npm run schemas`), and a unit test checks the files on disk
 * match, so the files and the code can never disagree. Pure: no vscode, no tfjs.
 */
import { RunEventSchema, RunManifestSchema } from './runFormat';
import type { TSchema } from './schema';

/** File name (inside src/protocol/schemas/) → its text. */
export function runFormatSchemaFiles(): Record<string, string> {
	const file = (schema: TSchema): string => `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...schema }, null, '\t')}\n`;
	return { 'manifest.schema.json': file(RunManifestSchema), 'event.schema.json': file(RunEventSchema) };
}
