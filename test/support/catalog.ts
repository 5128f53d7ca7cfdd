// A real catalog for tests: SQLite in a fresh temporary folder, a random master key. The
// implementation lives in local/temp-catalog.ts, shared with the benchmarks.
export { tempCatalog as testCatalog, type TempCatalog as TestCatalog } from '../../local/temp-catalog.js';
