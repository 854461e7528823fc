// Flat config, type-aware: floating promises and `any` are errors; `vscode` may be
// imported only by host code (src/extension.ts and src/host/**), so the analyser, SDK, dataset logic
// and protocol stay pure and testable in plain Node.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noVscode = {
	'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'vscode may only be imported in src/extension.ts and src/host/** (keep logic pure).' }] }],
};

export default tseslint.config(
	{ ignores: ['node_modules/**', 'dist/**', 'out/**', '.tools/**', '.test-artifacts/**', '**/*.js', '**/*.mjs', '**/*.cjs', 'test/reference/**', 'bench/**/*.py'] },
	js.configs.recommended,
	...tseslint.configs.recommendedTypeChecked,
	{
		languageOptions: {
			parserOptions: {
				projectService: { allowDefaultProject: ['eslint.config.mjs'] },
				tsconfigRootDir: import.meta.dirname,
			},
		},
		rules: {
			// node:test's describe/test return promises that the runner itself tracks.
			'@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'test', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] }],
			'@typescript-eslint/no-explicit-any': 'error',
			'@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
			'@typescript-eslint/naming-convention': [
				'error',
				{ selector: 'typeLike', format: ['PascalCase'] },
				{ selector: 'interface', format: ['PascalCase'], custom: { regex: '^I[A-Z]', match: false } },
			],
			eqeqeq: ['error', 'always'],
			curly: ['error', 'all'],
			'no-restricted-properties': [
				'error',
				{ object: 'describe', property: 'only', message: 'focused tests silence the rest of the suite' },
				{ object: 'it', property: 'only', message: 'focused tests silence the rest of the suite' },
				{ object: 'test', property: 'only', message: 'focused tests silence the rest of the suite' },
				{ object: 'suite', property: 'only', message: 'focused tests silence the rest of the suite' },
			],
			...noVscode,
		},
	},
	{
		// Protocol messages are declared vscode-eslint style: one namespace per method with a literal `method` and a typed `type`.
		files: ['src/protocol/**/*.ts'],
		rules: { '@typescript-eslint/no-namespace': 'off' },
	},
	{
		files: ['src/extension.ts', 'src/host/**/*.ts', 'test/integration/**/*.ts'],
		rules: { 'no-restricted-imports': 'off' },
	},
);
