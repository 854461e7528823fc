#!/usr/bin/env node
// Installs the tools the integration tests need into the git-ignored .tools/ folder:
// code-server 4.100.3 (a real VS Code 1.100.3 server; the only offline route to a real VS Code here)
// and Debian's Chromium (driven by playwright-core). Idempotent: a second run does nothing.
// Only the npm registry and Debian apt are used (docs/testing.md explains the three install workarounds).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const toolsDir = path.join(root, '.tools');
export const codeServerDir = path.join(toolsDir, 'code-server');
export const codeServerBin = path.join(codeServerDir, 'node_modules', '.bin', 'code-server');
export const chromiumBin = process.env.POISON_LENS_CHROMIUM ?? '/usr/bin/chromium';
const APT_PACKAGES = ['chromium', 'libkrb5-dev', 'ripgrep'];

function log(msg) {
	process.stderr.write(`[tools] ${msg}\n`);
}

function run(cmd, args, opts = {}) {
	const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
	if (r.status !== 0) {
		throw new Error(`${cmd} ${args.join(' ')} failed with exit code ${r.status ?? r.signal}`);
	}
}

function missingAptPackages(pkgs) {
	return pkgs.filter((p) => spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' }).stdout?.includes('install ok installed') !== true);
}

export function ensureAptPackages(pkgs) {
	const missing = missingAptPackages(pkgs);
	if (missing.length === 0) {
		return;
	}
	const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
	const prefix = isRoot ? [] : ['sudo'];
	if (!isRoot && spawnSync('sudo', ['-n', 'true']).status !== 0) {
		throw new Error(`missing Debian packages: ${missing.join(' ')}. Install them with: sudo apt-get install -y ${missing.join(' ')}`);
	}
	log(`apt-get install ${missing.join(' ')}`);
	const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
	run(prefix[0] ?? 'apt-get', [...prefix.slice(1), ...(isRoot ? [] : ['apt-get']), 'update', '-qq'], { env });
	run(prefix[0] ?? 'apt-get', [...prefix.slice(1), ...(isRoot ? [] : ['apt-get']), 'install', '-y', '-qq', ...missing], { env });
}

function installedCodeServerVersion() {
	const pj = path.join(codeServerDir, 'node_modules', 'code-server', 'package.json');
	if (!existsSync(pj) || !existsSync(codeServerBin) || !existsSync(path.join(codeServerDir, '.installed'))) {
		return undefined;
	}
	return JSON.parse(readFileSync(pj, 'utf8')).version;
}

export function ensureCodeServer() {
	if (installedCodeServerVersion() === CODE_SERVER_VERSION) {
		return;
	}
	const major = Number(process.versions.node.split('.')[0]);
	if (major !== 20) {
		throw new Error(`code-server ${CODE_SERVER_VERSION} must be installed with Node 20 (found ${process.version})`);
	}
	log(`installing code-server ${CODE_SERVER_VERSION} into ${path.relative(root, codeServerDir)} (about a minute)`);
	rmSync(codeServerDir, { recursive: true, force: true });
	mkdirSync(codeServerDir, { recursive: true });
	writeFileSync(path.join(codeServerDir, 'package.json'), JSON.stringify({ name: 'poison-lens-tools', private: true }, null, 2));
	// Workaround 1: @vscode/ripgrep's postinstall downloads rg from GitHub; it first looks in
	// $TMPDIR/vscode-ripgrep-cache-<version>/, so seed that cache with Debian's rg.
	const tmp = path.join(toolsDir, 'tmp');
	const cache = path.join(tmp, 'vscode-ripgrep-cache-1.15.11');
	const stage = path.join(toolsDir, 'rgstage');
	mkdirSync(cache, { recursive: true });
	mkdirSync(stage, { recursive: true });
	const rg = execFileSync('sh', ['-c', 'command -v rg'], { encoding: 'utf8' }).trim();
	copyFileSync(rg, path.join(stage, 'rg'));
	run('tar', ['czf', path.join(cache, 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz'), '-C', stage, 'rg']);
	// Workaround 2: node-pty's postinstall runs `npx node-gyp`, which must not prompt (npm_config_yes).
	// Workaround 3: code-server's postinstall insists on Node 20 and needs --unsafe-perm as root.
	// libkrb5-dev (apt) lets the kerberos native module build; argon2 falls back to a source build.
	run('npm', ['install', `code-server@${CODE_SERVER_VERSION}`, '--unsafe-perm', '--foreground-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
		cwd: codeServerDir,
		env: { ...process.env, TMPDIR: tmp, npm_config_yes: 'true', npm_config_nodedir: process.env.npm_config_nodedir ?? '/usr' },
		stdio: ['ignore', 'ignore', 'inherit'],
	});
	const version = execFileSync(codeServerBin, ['--version'], { encoding: 'utf8', env: { ...process.env, HOME: path.join(toolsDir, 'home') } }).trim();
	log(`code-server ${version}`);
	writeFileSync(path.join(codeServerDir, '.installed'), version + '\n');
}

export function ensureTools() {
	ensureAptPackages(APT_PACKAGES);
	if (!existsSync(chromiumBin)) {
		throw new Error(`Chromium not found at ${chromiumBin} (set POISON_LENS_CHROMIUM to another path)`);
	}
	ensureCodeServer();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	try {
		ensureTools();
		log('tools ready');
	} catch (err) {
		log(`error: ${err.message}`);
		process.exit(1);
	}
}
