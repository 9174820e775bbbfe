import type { Registry } from "prom-client";

/*
 * How a part of the daemon defines its metric families without importing
 * prom-client (lazy_metrics.ts loads it on first use; metrics_registry.ts
 * implements these helpers on it).
 */

/** One sample of a labelled family. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Records one observation (seconds, bytes) in a histogram. */
export type Observe = (labels: Record<string, string>, value: number) => void;

/** How a part of the daemon defines its families (metrics_registry.ts implements it on prom-client). */
export interface Families {
  readonly registry: Registry;
  /** A counter read from a running total at each scrape. */
  total(name: string, help: string, read: () => number): void;
  /** A labelled counter read from running totals at each scrape. */
  totals(name: string, help: string, labelNames: string[], read: () => Sample[]): void;
  /** A gauge read at each scrape. */
  gauge(name: string, help: string, read: () => number): void;
  gauges(name: string, help: string, labelNames: string[], read: () => Sample[]): void;
  /** A histogram; buckets are upper bounds in the family's unit. */
  histogram(name: string, help: string, labelNames: string[], buckets: number[]): Observe;
}
