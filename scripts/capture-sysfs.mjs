// Captures this namespace's /sys/class/net and /proc/net routes as a unit-test fixture:
//   node scripts/capture-sysfs.mjs test/fixtures/<where-captured>
// (run it under `nsenter --net=/var/run/netns/NAME` to capture a lab namespace).
import { build } from 'esbuild';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/capture-sysfs.mjs <fixture-dir>');
  process.exit(2);
}
const bundled = await build({
  entryPoints: ['src/collect/host/interfaces.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  write: false,
});
const mod = await import('data:text/javascript;base64,' + Buffer.from(bundled.outputFiles[0].text).toString('base64'));
await mkdir(dir, { recursive: true });
await writeFile(path.join(dir, 'sysfs.json'), JSON.stringify(await mod.readSysClassNet('/'), null, 2) + '\n');
for (const f of ['route', 'ipv6_route'])
  await writeFile(path.join(dir, `proc-net-${f}.txt`), await readFile(`/proc/net/${f}`, 'utf8'));
try {
  await writeFile(path.join(dir, 'ip-d-addr.txt'), execFileSync('ip', ['-d', 'addr'], { encoding: 'utf8' }));
} catch {
  /* ip not installed */
}
console.log(`captured into ${dir}`);
