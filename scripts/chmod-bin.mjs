// Makes package.json's "bin" targets executable after `tsc` (which writes them 0644), so that `npx leaf`
// works in a fresh checkout without npm having linked the package.
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const bins = typeof pkg.bin === 'string' ? [pkg.bin] : Object.values(pkg.bin ?? {});
for (const rel of bins) {
  const file = new URL(`../${rel}`, import.meta.url);
  if (!existsSync(file)) {
    console.error(`chmod-bin: ${rel} was not built`);
    process.exit(1);
  }
  chmodSync(file, statSync(file).mode | 0o111);
}
