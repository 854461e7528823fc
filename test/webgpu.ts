/**
 * The one rule every test that needs a WebGPU adapter follows: ask {@link webgpuSkipReason}; when it returns a reason,
 * skip with it (node:test `t.skip(reason)`, also printed loudly), never fail. The adapter is probed in a child process
 * (src/tfjs/backend.ts `probeWebgpuAdapter`), so Dawn's native warnings stay out of the test output.
 * `npm test` installs the software adapter (Mesa lavapipe 25) when it can (scripts/setup.mjs, docs/testing.md).
 */
import { spawnSync } from 'node:child_process';
import { probeWebgpuAdapter } from '../src/tfjs/backend';

/** True when Mesa >= 25 (lavapipe) and the Vulkan loader are installed (Debian), i.e. an adapter must exist. */
export function softwareGpuInstalled(): boolean {
	const q = (fmt: string, pkg: string): string => spawnSync('dpkg-query', ['-W', `-f=${fmt}`, pkg], { encoding: 'utf8' }).stdout ?? '';
	const v = q('${Version}', 'mesa-vulkan-drivers');
	return /^(\d+:)?(2[5-9]|[3-9]\d)\./.test(v) && q('${Status}', 'libvulkan1').includes('install ok installed');
}

/**
 * Null when a WebGPU adapter is usable here, else why not (for `t.skip`). POISON_LENS_TEST_GPU=0 turns the GPU tests
 * off on purpose. Throws when lavapipe 25 is installed yet no adapter is found: that is a bug, not a missing tool.
 */
export async function webgpuSkipReason(): Promise<string | null> {
	if (process.env.POISON_LENS_TEST_GPU === '0') {
		return 'POISON_LENS_TEST_GPU=0';
	}
	const p = await probeWebgpuAdapter();
	if (p.found) {
		return null;
	}
	if (softwareGpuInstalled()) {
		throw new Error(`Mesa lavapipe >= 25 and libvulkan1 are installed, but no WebGPU adapter was found: ${p.reason}`);
	}
	const reason = `${p.reason} (npm test installs one when it runs as root on Debian bookworm: scripts/setup.mjs)`;
	process.stdout.write(`\n*** SKIPPED: ${reason} ***\n`);
	return reason;
}
