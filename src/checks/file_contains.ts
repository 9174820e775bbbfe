import { closeSync, constants, fstatSync, openSync, readSync, statSync } from "node:fs";
import { open, stat } from "node:fs/promises";
import { fsReason, quote, type Evaluation } from "./evaluation.js";
import { kind } from "./file_exists.js";
import { errorMessage } from "../base/result.js";

/*
 * file_contains: streams the file through one reused buffer and searches the
 * bytes with Buffer.indexOf, so memory stays bounded (chunk + needle bytes)
 * whatever the file size, and a page-cached file is searched at memory speed.
 * Matching is on bytes (the needle's UTF-8 encoding), so binary files work.
 */

/** Bytes per read (4 MiB): large reads keep the per-read overhead (a libuv round trip) negligible. */
export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;
const SIZELESS_CHUNK_BYTES = 64 * 1024;
/**
 * Regular files up to this size (bytes) are read with synchronous calls once
 * an asynchronous stat has found them: open + fstat + read + close cost about
 * 20 µs of CPU that way, against about 160 µs through four thread-pool round
 * trips, and a batch's checks are mostly small config files. Unless every
 * mounted file system is local (local_fs.ts), the stat goes through the
 * thread pool, so a path on a hung file system blocks a worker, not the event
 * loop.
 */
export const SMALL_FILE_BYTES = 64 * 1024;

export interface SearchResult {
  /** Byte offset of the first match, or null when there is none. */
  offset: number | null;
  /** Bytes read before the search ended. */
  scannedBytes: number;
}

/**
 * Finds the first occurrence of `needle` in the file at `path`. Keeps the last
 * needle.length - 1 bytes of each chunk in front of the next one, so a match
 * that straddles a chunk boundary is found. Throws the file system error
 * (ErrnoException) when the file cannot be opened or read, and an Error for a
 * directory or a non-regular file (a FIFO or device could block or never end).
 * `sync`: the first stat is synchronous (only when every mounted file system
 * is local).
 */
export async function searchFile(path: string, needle: Uint8Array, chunkBytes = DEFAULT_CHUNK_BYTES, sync = false): Promise<SearchResult> {
  const st = sync ? statSync(path) : await stat(path);
  // Only a file that fits in one chunk: its search is then the same as streaming's.
  if (st.isFile() && st.size > 0 && st.size <= Math.min(SMALL_FILE_BYTES, chunkBytes)) {
    const small = searchSmallFile(path, needle, Math.min(SMALL_FILE_BYTES, chunkBytes));
    if (small) return small;
  }
  return streamFile(path, needle, chunkBytes);
}

/**
 * The same search, synchronously, when the file is still a regular file of at
 * most maxBytes once opened; null when it is not (then the caller
 * streams it). One read suffices: the size bounds what there is to read, and
 * a file that grew meanwhile is read as far as that size, as a stream would
 * have been at that moment.
 */
function searchSmallFile(path: string, needle: Uint8Array, maxBytes: number): SearchResult | null {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size === 0 || st.size > maxBytes) return null;
    if (needle.length === 0) return { offset: 0, scannedBytes: 0 };
    const buf = Buffer.allocUnsafe(st.size);
    let filled = 0;
    for (;;) {
      const n = readSync(fd, buf, filled, buf.length - filled, null);
      filled += n;
      if (n === 0 || filled === buf.length) break;
    }
    const at = buf.subarray(0, filled).indexOf(needle);
    return { offset: at >= 0 ? at : null, scannedBytes: filled };
  } finally {
    closeSync(fd);
  }
}

async function streamFile(path: string, needle: Uint8Array, chunkBytes: number): Promise<SearchResult> {
  // O_NONBLOCK: opening a FIFO without a writer would otherwise hang a
  // libuv thread; on regular files it changes nothing.
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error(`${path} is a ${kind(st)}, not a regular file`);
    if (needle.length === 0) return { offset: 0, scannedBytes: 0 };
    const overlap = needle.length - 1;
    // A small file gets a buffer its size, not a whole chunk: a batch of
    // hundreds of checks on config files should not allocate 4 MiB each.
    // /proc and other pseudo-files report size 0; they are short, read in 64 KiB steps.
    const bytesPerRead = Math.min(chunkBytes, st.size > 0 ? Math.max(st.size, 4096) : SIZELESS_CHUNK_BYTES);
    const buf = Buffer.allocUnsafe(bytesPerRead + overlap);
    let carried = 0; // bytes at buf[0..carried) kept from the previous chunk
    let base = 0; // file offset of buf[0]
    for (;;) {
      const { bytesRead } = await fh.read(buf, carried, bytesPerRead, null);
      if (bytesRead === 0) return { offset: null, scannedBytes: base + carried };
      const end = carried + bytesRead;
      const at = buf.subarray(0, end).indexOf(needle);
      if (at >= 0) return { offset: base + at, scannedBytes: base + end };
      const keep = Math.min(overlap, end);
      buf.copy(buf, 0, end - keep, end);
      base += end - keep;
      carried = keep;
    }
  } finally {
    await fh.close();
  }
}

/**
 * A missing file is a fail (it does not contain the text, and an action such
 * as `echo 8.8.8.8 >> /etc/resolv.conf` can fix that); a directory, a
 * non-regular file or an unreadable one is an `error`.
 */
export async function evaluateFileContains(path: string, needle: string, chunkBytes = DEFAULT_CHUNK_BYTES, sync = false): Promise<Evaluation> {
  let r: SearchResult;
  try {
    r = await searchFile(path, Buffer.from(needle, "utf8"), chunkBytes, sync);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { status: "fail", message: `${path} does not exist, so it does not contain ${quote(needle)}` };
    const reason = code === undefined ? errorMessage(e) : fsReason(e);
    return { status: "error", message: `cannot search ${path} for ${quote(needle)}: ${reason}` };
  }
  if (r.offset === null) {
    return { status: "fail", message: `${quote(needle)} not found in ${path} (searched ${r.scannedBytes} bytes)` };
  }
  return { status: "pass", message: `found ${quote(needle)} in ${path} at byte ${r.offset}` };
}
