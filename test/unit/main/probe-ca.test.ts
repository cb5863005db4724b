import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { loadCa } from '../../../src/main/probe.js';

// The in-container probe's CA (InnerProbeConfig.caFile): added to Node's default roots; unreadable is a note.
describe('in-container probe CA', () => {
  it('adds the PEM to the default roots', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'probe-ca-'));
    const pem = '-----BEGIN CERTIFICATE-----\nLAB\n-----END CERTIFICATE-----\n';
    await writeFile(path.join(dir, 'ca.pem'), pem);
    const r = await loadCa(path.join(dir, 'ca.pem'));
    expect(r.note).toBeUndefined();
    expect(r.ca).toEqual([...tls.rootCertificates, pem]);
  });

  it('a CA that cannot be read is a note naming it, not a crash', async () => {
    const r = await loadCa('/nonexistent/ca.pem');
    expect(r.ca).toBeUndefined();
    expect(r.note).toMatch(/CA file \/nonexistent\/ca.pem could not be read inside \(ENOENT\).*default roots only/);
  });

  it('a file without a certificate is a note too', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'probe-ca-'));
    await writeFile(path.join(dir, 'ca.pem'), 'not a pem');
    expect((await loadCa(path.join(dir, 'ca.pem'))).note).toMatch(/holds no PEM certificate/);
  });

  it('no CA: nothing to add', async () => {
    expect(await loadCa(undefined)).toEqual({});
  });
});
