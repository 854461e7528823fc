#!/usr/bin/env node
// The machine set-up `npm test` needs, done once and skipped when already there (docs/testing.md, "Set-up"):
//   1. Debian packages: chromium (drives the real VS Code), libkrb5-dev + ripgrep (code-server's install),
//      dataset-fashion-mnist (the real Fashion-MNIST files the data readers and the demo use);
//   2. a software WebGPU adapter: Mesa lavapipe 25 from bookworm-backports (scripts/install-gpu-sw.sh);
//   3. code-server 4.100.3 into .tools/ (scripts/tools.mjs).
// Installing needs root or password-less sudo and apt-get. Without them nothing is installed: each missing piece is
// named with the command that installs it, and the tests that need it skip and say why (they never fail for it).
// Usage: node scripts/setup.mjs (prints what it did; exit code 0 unless an install that could run failed).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumBin, ensureCodeServer, CODE_SERVER_VERSION, codeServerDir } from './tools.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const APT_PACKAGES = ['chromium', 'libkrb5-dev', 'ripgrep', 'dataset-fashion-mnist'];
const log = (msg) => process.stderr.write(`[setup] ${msg}\n`);

function dpkgInstalled(pkg) {
	const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
	return r.status === 0 && r.stdout.includes('install ok installed');
}

function dpkgVersion(pkg) {
	const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' });
	return r.status === 0 ? r.stdout.trim() : '';
}

/** True when a Mesa >= 25 Vulkan driver (lavapipe) and the Vulkan loader are installed. */
export function haveSoftwareGpu() {
	const v = dpkgVersion('mesa-vulkan-drivers');
	return v !== '' && Number(v.split('.')[0].replace(/^\d+:/, '')) >= 25 && dpkgInstalled('libvulkan1');
}

/** How this process may install system packages: 'root', 'sudo', or null with the reason it cannot. */
function privilege() {
	if (!existsSync('/usr/bin/apt-get') || spawnSync('dpkg-query', ['--version']).status !== 0) {
		return { how: null, why: 'not a Debian/Ubuntu machine (no apt-get/dpkg)' };
	}
	if (typeof process.getuid === 'function' && process.getuid() === 0) {
		return { how: 'root' };
	}
	if (spawnSync('sudo', ['-n', 'true']).status === 0) {
		return { how: 'sudo' };
	}
	return { how: null, why: 'not root and no password-less sudo' };
}

function run(how, cmd, args) {
	const full = how === 'sudo' ? ['sudo', ['-n', 'env', 'DEBIAN_FRONTEND=noninteractive', cmd, ...args]] : [cmd, args];
	log(`$ ${[full[0], ...full[1]].join(' ')}`);
	const r = spawnSync(full[0], full[1], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
	return r.status === 0;
}

/**
 * Brings the machine to what the tests need. Returns { missing: [{ what, reason }], failed: [string], integration }:
 * `missing` could not be installed here (tests skip), `failed` were attempted and broke (a real failure), and
 * `integration` is null when the integration layer can run, else why it cannot.
 */
export function setup() {
	const missing = [];
	const failed = [];
	const priv = privilege();

	const absent = APT_PACKAGES.filter((p) => !dpkgInstalled(p));
	if (absent.length > 0) {
		if (priv.how === null) {
			missing.push({ what: absent.join(' '), reason: `${priv.why}; install with: sudo apt-get install -y ${absent.join(' ')}` });
		} else if (!(run(priv.how, 'apt-get', ['update', '-qq']) && run(priv.how, 'apt-get', ['install', '-y', '-qq', ...absent]))) {
			failed.push(`apt-get install ${absent.join(' ')}`);
		}
	} else {
		log(`Debian packages present: ${APT_PACKAGES.join(' ')}`);
	}

	if (haveSoftwareGpu()) {
		log(`software GPU present: mesa-vulkan-drivers ${dpkgVersion('mesa-vulkan-drivers')} + libvulkan1`);
	} else if (priv.how === null) {
		missing.push({ what: 'software GPU (Mesa lavapipe >= 25)', reason: `${priv.why}; install with: sudo bash scripts/install-gpu-sw.sh (WebGPU tests skip)` });
	} else {
		const r = spawnSync('bash', [path.join(root, 'scripts/install-gpu-sw.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
		if (r.status !== 0) {
			failed.push('scripts/install-gpu-sw.sh');
		}
	}

	let integration = null;
	const installed = existsSync(path.join(codeServerDir, '.installed'));
	const prereq = [];
	if (!installed && spawnSync('sh', ['-c', 'command -v rg']).status !== 0) {
		prereq.push('ripgrep');
	}
	if (!installed && !dpkgInstalled('libkrb5-dev')) {
		prereq.push('libkrb5-dev');
	}
	if (!installed && Number(process.versions.node.split('.')[0]) !== 20) {
		prereq.push(`Node 20 (found ${process.version})`);
	}
	if (prereq.length > 0) {
		integration = `code-server ${CODE_SERVER_VERSION} is not installed and its install needs ${prereq.join(', ')}`;
		missing.push({ what: `code-server ${CODE_SERVER_VERSION}`, reason: `needs ${prereq.join(', ')} (integration tests skip)` });
	} else {
		try {
			ensureCodeServer();
			log(`code-server ${CODE_SERVER_VERSION} present in .tools/`);
		} catch (err) {
			failed.push(`code-server ${CODE_SERVER_VERSION}: ${err.message}`);
			integration = `code-server ${CODE_SERVER_VERSION} failed to install`;
		}
	}
	if (!existsSync(chromiumBin)) {
		integration ??= `Chromium not found at ${chromiumBin} (set POISON_LENS_CHROMIUM to another path)`;
	}

	for (const m of missing) {
		log(`MISSING ${m.what}: ${m.reason}`);
	}
	for (const f of failed) {
		log(`FAILED ${f}`);
	}
	return { missing, failed, integration };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const { failed } = setup();
	process.exit(failed.length > 0 ? 1 : 0);
}
