/**
 * A test's reader of the daemon's live streams (SSE over fetch): events as
 * they come, parsed, with waits that have deadlines. Deliberately naive
 * (the daemon sends one-line data); the CLI's own parser is tested apart.
 */
export interface SseEvent {
  event: string;
  data: any;
}

export class SseReader {
  readonly events: SseEvent[] = [];
  private readonly ac = new AbortController();
  private ended = false;
  status = 0;

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const r = new SseReader();
    const res = await fetch(url, { headers, signal: r.ac.signal });
    r.status = res.status;
    if (res.status !== 200) {
      r.ended = true;
      r.events.push({ event: "http-error", data: await res.text() });
      return r;
    }
    void r.pump(res.body!);
    return r;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = "message";
          let data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) event = line.slice(7);
            else if (line.startsWith("data: ")) data += line.slice(6);
          }
          if (data !== "") this.events.push({ event, data: JSON.parse(data) });
        }
      }
    } catch {
      // aborted
    }
    this.ended = true;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Waits until an event matches (deadline timeoutMs) and returns it. */
  async waitFor(pred: (e: SseEvent) => boolean, timeoutMs: number, what: string): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = this.events.find(pred);
      if (e) return e;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${this.events.map((x) => x.event).join(",")}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.ac.abort();
  }
}
