import { fail, ok, type Result } from "../base/result.js";

/*
 * The client side of Server-Sent Events framing (stream_types.ts), shared by
 * gcheck and the client library (gossipcheck/client): SseParser cuts the
 * text of a stream into events as it arrives, whatever the chunk boundaries
 * (a line, a CRLF or a multi-byte character split across chunks), with
 * bounded memory.
 */

/** Largest single event accepted (characters of its event name and data): the largest snapshot of a 10,000-member cluster is far below. */
export const MAX_EVENT_CHARS = 8 * 1024 * 1024;

/** One event as the stream framed it: data is the text of its data lines, joined by "\n". */
export interface SseMessage {
  event: string;
  data: string;
}

/**
 * The SSE framing of the HTML standard, incrementally: lines end with LF,
 * CRLF or CR; "event:" names the event, "data:" lines are joined by "\n",
 * a blank line ends the event; lines starting with ":" are comments; "id:",
 * "retry:" and unknown fields are ignored (a stream restarts from its
 * snapshot, so no event IDs are needed). An event without data lines is
 * dropped, as a browser does.
 */
export class SseParser {
  /** The current line, not ended yet. */
  private pending = "";
  /** The last text ended with CR: a LF that starts the next one belongs to it (CRLF split across chunks). */
  private skipLF = false;
  private event = "";
  private data: string[] = [];
  /** Characters held for the current event: its name and data lines (the pending line is counted apart). */
  private held = 0;

  constructor(private readonly maxEventChars = MAX_EVENT_CHARS) {}

  /** Feeds decoded text; returns the events it completed, or an error once an event grows past the bound. */
  push(text: string): Result<SseMessage[]> {
    const out: SseMessage[] = [];
    let i = this.skipLF && text.startsWith("\n") ? 1 : 0;
    this.skipLF = false;
    while (i < text.length) {
      const end = lineEnd(text, i);
      if (end < 0) {
        this.pending += text.slice(i);
        break;
      }
      const line = this.pending + text.slice(i, end);
      this.pending = "";
      if (text[end] === "\r" && end + 1 === text.length) this.skipLF = true;
      i = text[end] === "\r" && text[end + 1] === "\n" ? end + 2 : end + 1;
      const done = this.line(line);
      if (done) out.push(done);
      if (this.held > this.maxEventChars) break;
    }
    if (this.held + this.pending.length > this.maxEventChars) return fail(`an event over ${this.maxEventChars} characters`);
    return ok(out);
  }

  private line(line: string): SseMessage | undefined {
    if (line === "") {
      const msg = this.data.length > 0 ? { event: this.event || "message", data: this.data.join("\n") } : undefined;
      this.event = "";
      this.data = [];
      this.held = 0;
      return msg;
    }
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") {
      this.held += value.length - this.event.length;
      this.event = value;
    } else if (field === "data") {
      this.held += value.length + 1;
      this.data.push(value);
    }
    return undefined;
  }
}

/** Index of the first CR or LF at or after from, or -1. */
function lineEnd(text: string, from: number): number {
  const cr = text.indexOf("\r", from);
  const lf = text.indexOf("\n", from);
  return cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
}
