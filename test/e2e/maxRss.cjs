// Preloaded with `node --require test/e2e/maxRss.cjs …`: reports the process's peak resident memory on stderr at
// exit (process.resourceUsage().maxRSS, in kilobytes), so a test can hold a child process to a memory budget.
'use strict';
process.on('exit', () => {
	process.stderr.write(`\nPOISON_LENS_MAX_RSS_KB ${process.resourceUsage().maxRSS}\n`);
});
