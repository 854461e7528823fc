/** The float64 referee suite on cpu and wasm (see referenceSuite.ts for what is checked). */
import { suite } from './referenceSuite';

suite('cpu', null);
suite('wasm', null);
