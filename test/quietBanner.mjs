// Preloaded into every test process by scripts/test.mjs (`--import`): drops TensorFlow.js's one-time Node banner
// ("Hi, looks like you are running TensorFlow.js in Node.js … install our node backend"), which tests that use tfjs's
// cpu backend directly would print into the report. Only that exact message; every other warning still prints.
const warn = console.warn;
console.warn = (...args) => {
	if (typeof args[0] === 'string' && args[0].includes('Hi, looks like you are running TensorFlow.js in Node.js')) {
		return;
	}
	warn(...args);
};
