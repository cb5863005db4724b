/**
 * Reading a CI file without trusting it: a FIFO must not block the run, /dev/zero or /dev/urandom must not be read
 * until memory runs out, and whatever is not read is said (an info finding), never passed over. The file is opened
 * non-blocking (a FIFO with no writer opens at once), judged on the open handle (no stat-then-open race), and read
 * up to a cap.
 */
import { constants, type Stats } from 'node:fs';
import { open, readlink } from 'node:fs/promises';

/** Larger files are no hand-written CI config; reading them would only slow the run. */
export const MAX_CI_FILE_BYTES = 1024 * 1024;

export type ReadCiFile =
  | { kind: 'text'; text: string }
  /** A directory that happens to have a CI file's name: not a file at all, nothing to say. */
  | { kind: 'directory' }
  | { kind: 'unchecked'; why: string };

export async function readCiFile(abs: string, maxBytes = MAX_CI_FILE_BYTES): Promise<ReadCiFile> {
  let handle;
  try {
    handle = await open(abs, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return { kind: 'unchecked', why: `unreadable: ${(err as NodeJS.ErrnoException).code ?? 'error'}` };
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) return { kind: 'directory' };
    if (!st.isFile()) {
      const target = await readlink(abs).catch(() => undefined);
      return { kind: 'unchecked', why: `not a regular file: ${target ? `a link to ${target}, ` : ''}${fileKind(st)}` };
    }
    if (st.size > maxBytes) return { kind: 'unchecked', why: tooLarge(st.size, maxBytes) };
    // One byte more than the cap tells a file that grew since fstat from one that fits.
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    while (n < buf.length) {
      const { bytesRead } = await handle.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    if (n > maxBytes) return { kind: 'unchecked', why: tooLarge(n, maxBytes, 'more than ') };
    return { kind: 'text', text: buf.subarray(0, n).toString('utf8') };
  } catch (err) {
    return { kind: 'unchecked', why: `unreadable: ${(err as NodeJS.ErrnoException).code ?? 'error'}` };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function tooLarge(size: number, max: number, more = ''): string {
  return `too large: ${more}${size} bytes, a CI config is at most ${max}`;
}

function fileKind(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a file';
}
