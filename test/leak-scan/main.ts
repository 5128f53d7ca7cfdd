// The leak scan of scripts/test.sh, after the integration tier: `node --import tsx
// test/leak-scan/main.ts [--require-histories] <leak folder>`. Exit 0 on zero hits; 1 on any hit,
// an incomplete scan, or one that proves nothing (no canaries; with --require-histories, no history).
import { formatReport, passed, scanLeakDir } from './scan.js';

const args = process.argv.slice(2);
const requireHistories = args.includes('--require-histories');
const dir = args.find((a) => !a.startsWith('--'));
if (!dir) {
  console.error('usage: test/leak-scan/main.ts [--require-histories] <leak folder>');
  process.exit(2);
}
const report = await scanLeakDir(dir, { requireHistories });
console.error(formatReport(report));
process.exit(passed(report) ? 0 : 1);
