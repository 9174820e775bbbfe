import type { Registry } from "prom-client";
import type { Families } from "./metric_families.js";

/*
 * The daemon's metrics: one prom-client Registry that GET /metrics serves on
 * the control API and on -metrics-bind alike, built on first use. Each part
 * of the daemon adds the definition of its families (add()); they run when
 * the registry is built, or at once if it already is.
 *
 * Why lazily: prom-client with the daemon's families and the default
 * process metrics adds 1.6 to 2.9 MiB to an idle daemon's RSS (measured for
 * issue 12, idle 8 s after start: medians 57.2 -> 58.9 MiB over 10 runs,
 * 58.5 -> 61.4 MiB over 6; not loading it costs 0.2 MiB), and most daemons
 * run with the control API on loopback and nobody scraping it. The registry is built
 * at start with -metrics-bind (someone will scrape), else by the first GET
 * /metrics. Histograms observe only once it is built: without -metrics-bind
 * they count from the first scrape, which is where a scraper's view of them
 * starts anyway.
 *
 * Naming (what a test of the exposition checks): snake_case, the
 * `gossipcheck_` prefix, `_total` on counters, the unit at the end of the
 * name (`_seconds`, `_bytes`, before `_total`), one quantity per family: a
 * label splits one quantity (drops by reason), never bytes from packets.
 * The default process and Node.js families keep their standard unprefixed
 * names (process_*, nodejs_*) so the usual dashboards work.
 */

export type { Families, Observe, Sample } from "./metric_families.js";

/** Exposition format 0.0.4, what Prometheus scrapes by default. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export class LazyMetrics {
  private readonly setups: ((f: Families) => void)[] = [];
  private families: Families | null = null;
  private building: Promise<Registry> | null = null;

  /** defaultMetrics: add the process and Node.js families (the daemon does; tests of one part may not). */
  constructor(private readonly o: { defaultMetrics: boolean } = { defaultMetrics: false }) {}

  /** Defines families: when the registry is built, or now if it is. */
  add(setup: (f: Families) => void): void {
    this.setups.push(setup);
    if (this.families) setup(this.families);
  }

  /** True once the registry is built (histograms observe from then on). */
  get loaded(): boolean {
    return this.families !== null;
  }

  /** Loads prom-client and builds the registry with every family added so far (once). */
  registry(): Promise<Registry> {
    this.building ??= import("./metrics_registry.js").then((m) => {
      const families = m.familiesOf(m.newRegistry(this.o.defaultMetrics));
      for (const setup of this.setups) setup(families);
      this.families = families;
      return families.registry;
    });
    return this.building;
  }

  /** The exposition text of every family. */
  async text(): Promise<string> {
    return (await this.registry()).metrics();
  }
}
