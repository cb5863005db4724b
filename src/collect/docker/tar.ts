/**
 * A minimal ustar writer: enough to hand files to the daemon (PUT /containers/{id}/archive, POST /build)
 * without a tar dependency. Files only (plus their parent directories), names up to 100 bytes, no links.
 */

export interface TarEntry {
  /** Relative path, '/'-separated, e.g. 'probe/probe.mjs'. */
  name: string;
  data: Buffer | string;
  /** Octal permission bits, default 0o644. */
  mode?: number;
}

const BLOCK = 512;

function header(name: string, size: number, mode: number, type: '0' | '5', mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  if (Buffer.byteLength(name) > 100) throw new Error(`tar: name longer than 100 bytes: ${name}`);
  const field = (off: number, len: number, value: string) => h.write(value, off, len, 'utf8');
  // Numeric fields: zero-padded octal, NUL-terminated.
  const octal = (off: number, len: number, n: number) => field(off, len, n.toString(8).padStart(len - 1, '0') + '\0');
  field(0, 100, name);
  octal(100, 8, mode);
  octal(108, 8, 0); // uid
  octal(116, 8, 0); // gid
  octal(124, 12, size);
  octal(136, 12, mtime);
  field(148, 8, '        '); // checksum is computed over the header with this field as spaces
  field(156, 1, type);
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  field(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

/** Build a tar archive in memory. Parent directories are added (mode 0755) before their files. */
export function createTar(entries: readonly TarEntry[], mtime = Math.floor(Date.now() / 1000)): Buffer {
  const parts: Buffer[] = [];
  const dirs = new Set<string>();
  for (const e of entries) {
    const segs = e.name.split('/').filter(Boolean);
    for (let i = 1; i < segs.length; i++) {
      const dir = segs.slice(0, i).join('/') + '/';
      if (dirs.has(dir)) continue;
      dirs.add(dir);
      parts.push(header(dir, 0, 0o755, '5', mtime));
    }
    const data = typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : e.data;
    parts.push(header(segs.join('/'), data.length, e.mode ?? 0o644, '0', mtime), data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(BLOCK * 2)); // end of archive: two zero blocks
  return Buffer.concat(parts);
}
