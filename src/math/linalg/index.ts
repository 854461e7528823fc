/**
 * Small dense float64 linear algebra for the analyser's exact numerics (KRR theory, Lanczos's
 * tridiagonal eigenproblem, explicit d×d Hessians). Pure TypeScript on `Float64Array`; no tfjs.
 */
export {
	type DenseMatrix,
	LinalgError,
	assertFinite,
	assertSquare,
	assertSymmetric,
	cloneMatrix,
	diagonalMatrix,
	entry,
	frobeniusNorm,
	identityMatrix,
	matMul,
	matVec,
	matrixFromRows,
	norm2,
	trace,
	transpose,
	zeroMatrix,
} from './dense';
export { dot } from '../vector';
export { type CholeskyOptions, type TriangularSolveOptions, cholesky, choleskyLogDeterminant, choleskySolve, solveTriangular } from './cholesky';
export { type EigenOrder, type SymmetricEigenOptions, type SymmetricEigenResult, symmetricEigen, tridiagonalEigen } from './symmetricEigen';
