/**
 * The float64 referee suite on the WebGPU backend (a software adapter in CI: Mesa lavapipe from
 * scripts/install-gpu-sw.sh). Its own file, so the adapter probe (which switches backends) cannot
 * interleave with the cpu/wasm suites. Without an adapter the suite is skipped and says why.
 */
import { describe } from 'node:test';
import { announceSkip, gpuUnavailableReason } from '../../tfjs/backendHarness';
import { suite } from './referenceSuite';

describe('gpu (WebGPU) referee', async () => {
	const reason = await gpuUnavailableReason();
	if (reason !== null) {
		announceSkip('float64 referee on gpu', `${reason} (install an adapter with scripts/install-gpu-sw.sh)`);
	}
	suite('gpu', reason);
});
