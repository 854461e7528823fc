// Writes src/protocol/schemas/*.schema.json from the run format's schemas (src/protocol/runFormat.ts).
// Run after changing the format: `npm run schemas`; test/unit/protocol/schemaFiles.test.ts fails until then.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runFormatSchemaFiles } from '../src/protocol/schemaFiles';

const dir = path.join(__dirname, '..', 'src', 'protocol', 'schemas');
for (const [name, text] of Object.entries(runFormatSchemaFiles())) {
	fs.writeFileSync(path.join(dir, name), text);
	console.log(`wrote ${path.relative(process.cwd(), path.join(dir, name))}`);
}
