import type { PublishEvent, Publication } from "../gossip/results.js";
import type { Clock } from "../net/clock.js";

/**
 * Following a publication for one client of the control API: its events in
 * order, until done, until the client's wait (timeoutMs) is over, or until
 * the client goes away. Stopping to follow changes nothing for the
 * publication itself: the envelope keeps spreading and replies keep being
 * recorded (batch history), only this client stops hearing about them.
 */
export type Followed = PublishEvent | { type: "stopped"; reason: "timeout" | "aborted" };

export async function* follow(pub: Publication, timeoutMs: number, signal: AbortSignal, clock: Clock): AsyncGenerator<Followed> {
  const queue: PublishEvent[] = [];
  let stop: "timeout" | "aborted" | null = signal.aborted ? "aborted" : null;
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const unsubscribe = pub.subscribe((e) => {
    queue.push(e);
    poke();
  });
  const timer = clock.setTimeout(() => {
    stop ??= "timeout";
    poke();
  }, timeoutMs);
  const onAbort = () => {
    stop = "aborted";
    poke();
  };
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      // An abort ends at once; a timeout still hands over what already arrived.
      if (stop === "aborted") return yield { type: "stopped", reason: "aborted" };
      const e = queue.shift();
      if (e) {
        yield e;
        if (e.type === "done") return;
        continue;
      }
      if (stop === "timeout") return yield { type: "stopped", reason: "timeout" };
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    timer.cancel();
    signal.removeEventListener("abort", onAbort);
    unsubscribe();
  }
}
