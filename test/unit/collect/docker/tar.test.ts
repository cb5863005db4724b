import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createTar } from '../../../../src/collect/docker/tar.js';

/** Read the archive back: name, type, mode, size and data per entry, checking every header checksum. */
function readTar(buf: Buffer) {
  const out: Array<{ name: string; type: string; mode: number; data: string }> = [];
  let off = 0;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (a: number, n: number) =>
      h
        .subarray(a, a + n)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const sum = Number.parseInt(str(148, 8).trim(), 8);
    let calc = 0;
    for (let i = 0; i < 512; i++) calc += i >= 148 && i < 156 ? 32 : h[i]!;
    expect(calc).toBe(sum);
    expect(str(257, 6)).toBe('ustar');
    const size = Number.parseInt(str(124, 12), 8);
    out.push({
      name: str(0, 100),
      type: str(156, 1),
      mode: Number.parseInt(str(100, 8), 8),
      data: buf.subarray(off + 512, off + 512 + size).toString('utf8'),
    });
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

describe('createTar', () => {
  const tar = createTar(
    [
      { name: 'Dockerfile', data: 'FROM node:24-alpine\n' },
      { name: 'probe/probe.mjs', data: 'console.log(1)\n'.repeat(100) },
      { name: 'probe/ca.pem', data: '-----BEGIN CERTIFICATE-----\n' },
    ],
    1_700_000_000,
  );

  it('writes ustar headers with valid checksums, parent directories first, padded to 512-byte blocks', () => {
    expect(tar.length % 512).toBe(0);
    expect(readTar(tar)).toEqual([
      { name: 'Dockerfile', type: '0', mode: 0o644, data: 'FROM node:24-alpine\n' },
      { name: 'probe/', type: '5', mode: 0o755, data: '' },
      { name: 'probe/probe.mjs', type: '0', mode: 0o644, data: 'console.log(1)\n'.repeat(100) },
      { name: 'probe/ca.pem', type: '0', mode: 0o644, data: '-----BEGIN CERTIFICATE-----\n' },
    ]);
    // Two zero blocks end the archive.
    expect(tar.subarray(tar.length - 1024).every((b) => b === 0)).toBe(true);
  });

  it.runIf(spawnSync('tar', ['--version']).status === 0)('is read by GNU tar', () => {
    const r = spawnSync('tar', ['-tvf', '-'], { input: tar, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/-rw-r--r-- 0\/0\s+1500 2023-11-14 \d\d:\d\d probe\/probe.mjs/);
  });

  it('refuses names ustar cannot hold', () => {
    expect(() => createTar([{ name: 'x'.repeat(101), data: '' }])).toThrow(/longer than 100 bytes/);
  });
});
