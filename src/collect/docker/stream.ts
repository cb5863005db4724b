/**
 * The shapes of what the daemon streams back: container logs (8-byte frame headers when the container has no TTY),
 * and newline-delimited JSON messages (image pull, build). Pure functions over captured bytes.
 */

export interface DemuxedLogs {
  stdout: string;
  stderr: string;
}

/**
 * Split a multiplexed log stream: each frame is [stream (1 = stdout, 2 = stderr), 0, 0, 0, size (uint32 BE)] + payload.
 * A body that does not start with a frame header is a TTY stream (raw stdout).
 */
export function demuxLogs(buf: Buffer): DemuxedLogs {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const looksFramed = buf.length >= 8 && buf[0]! <= 2 && buf[1] === 0 && buf[2] === 0 && buf[3] === 0;
  if (!looksFramed) return { stdout: buf.toString('utf8'), stderr: '' };
  let off = 0;
  while (off + 8 <= buf.length) {
    const stream = buf[off]!;
    const size = buf.readUInt32BE(off + 4);
    const payload = buf.subarray(off + 8, Math.min(buf.length, off + 8 + size));
    (stream === 2 ? err : out).push(payload);
    off += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

export interface StreamMessage {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string; code?: number };
  aux?: { ID?: string };
}

/** Newline-delimited JSON (pull and build progress). Lines that are not JSON are skipped. */
export function parseJsonStream(text: string): StreamMessage[] {
  const out: StreamMessage[] = [];
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      out.push(JSON.parse(t) as StreamMessage);
    } catch {
      /* a partial line */
    }
  }
  return out;
}

export interface BuildOutcome {
  /** Everything the build printed (the RUN step's output is in here). */
  output: string;
  /** The daemon's error, when the build failed. */
  error?: string;
  /** Image id from the aux message, when the build produced one. */
  imageId?: string;
}

/** Summarise a classic-builder (POST /build, version 1) response stream. */
export function parseBuildStream(text: string): BuildOutcome {
  const msgs = parseJsonStream(text);
  const output = msgs.map((m) => m.stream ?? '').join('');
  const failed = msgs.find((m) => m.error || m.errorDetail);
  const imageId = msgs.find((m) => m.aux?.ID)?.aux?.ID;
  return {
    output,
    ...(failed ? { error: failed.errorDetail?.message ?? failed.error ?? 'build failed' } : {}),
    ...(imageId ? { imageId } : {}),
  };
}

/** The error in a pull stream (POST /images/create), if any. */
export function pullError(text: string): string | undefined {
  const failed = parseJsonStream(text).find((m) => m.error || m.errorDetail);
  return failed ? (failed.errorDetail?.message ?? failed.error) : undefined;
}
