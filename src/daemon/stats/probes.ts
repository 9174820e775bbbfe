import { createRequire } from "node:module";
import { statfs } from "node:fs/promises";
import type { NodeStats } from "../../control/api_types.js";
import type * as SI from "systeminformation";

/*
 * The figures a node cannot read from Node itself (os, process): CPU busy
 * share, CPU model, memory, the root filesystem, the OS release. They come
 * from systeminformation, which is heavy (tens of ms to import, and some
 * calls spawn commands), so it is imported on the first probe, never at
 * daemon start-up. Any probe may fail or hang on some host; the collector
 * (stats.ts) bounds each call, so this file only maps systeminformation's
 * answers into the control API's shapes and refuses nonsense values.
 */

export type MemoryFigures = NonNullable<NodeStats["memory"]>;
export type DiskFigures = NonNullable<NodeStats["disk"]>;
export type OsFigures = NonNullable<NodeStats["os"]>;

export interface SystemProbes {
  /** Busy share of all CPUs since the previous call, in percent (the first call measures 0.5 s). */
  cpuLoad(): Promise<number>;
  cpuModel(): Promise<string>;
  memory(): Promise<MemoryFigures>;
  disk(): Promise<DiskFigures>;
  os(): Promise<OsFigures>;
}

// The module's type only: the module itself is imported by the first probe.
type SystemInformation = typeof SI;

/** Probes on systeminformation, imported by the first probe (load is injectable for tests). */
export function systemInformationProbes(load: () => Promise<SystemInformation> = () => import("systeminformation")): SystemProbes {
  let loading: Promise<SystemInformation> | null = null;
  let root: Promise<DiskFigures> | null = null;
  const si = () =>
    (loading ??= load().catch((err: Error) => {
      loading = null;
      throw new Error(`cannot load systeminformation (${err.message}): reinstall gossipcheck`);
    }));
  return {
    async cpuLoad() {
      return figure("busy share", (await (await si()).currentLoad()).currentLoad);
    },
    async cpuModel() {
      const c = await (await si()).cpu();
      const model = `${c.manufacturer ?? ""} ${c.brand ?? ""}`.trim();
      if (!model) throw new Error("this host does not name its CPU");
      return model;
    },
    async memory() {
      const m = await (await si()).mem();
      const totalBytes = figure("total", m.total);
      const availableBytes = figure("available", m.available);
      if (totalBytes <= 0) throw new Error("this host reports no memory");
      return { totalBytes, usedBytes: Math.max(0, totalBytes - availableBytes), availableBytes, swapTotalBytes: figure("swap total", m.swaptotal), swapUsedBytes: figure("swap used", m.swapused) };
    },
    async disk() {
      // systeminformation's fsSize spawns df: once, to learn which filesystem
      // is the root and what it is; every later sample is one statfs(2) of it.
      const known = (root ??= (async () => rootFilesystem(await (await si()).fsSize()))().catch((err: unknown) => {
        root = null;
        throw err;
      }));
      const fs = await known;
      const st = await statfs(fs.mount);
      const totalBytes = st.blocks * st.bsize;
      return { ...fs, totalBytes, usedBytes: Math.max(0, (st.blocks - st.bfree) * st.bsize), availableBytes: st.bavail * st.bsize };
    },
    async os() {
      const o = await (await si()).osInfo();
      return { platform: o.platform, distro: o.distro, release: o.release, kernel: o.kernel, arch: o.arch, hostname: o.hostname };
    },
  };
}

/** The filesystem mounted on "/", or the largest one when "/" is not listed (a container, Windows). */
export function rootFilesystem(list: { fs: string; type: string; size: number; used: number; available: number; mount: string }[]): DiskFigures {
  const sized = list.filter((f) => Number.isFinite(f.size) && f.size > 0);
  const root = sized.find((f) => f.mount === "/") ?? sized.sort((a, b) => b.size - a.size)[0];
  if (!root) throw new Error("no mounted filesystem reports a size");
  return { mount: root.mount, fs: root.fs, type: root.type, totalBytes: root.size, usedBytes: figure("used", root.used), availableBytes: figure("available", root.available) };
}

function figure(what: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new Error(`${what} is not a number (${String(v)})`);
  return v;
}

/**
 * Whether this process has loaded systeminformation, read from the module
 * cache itself (systeminformation is CommonJS, so even an ESM import lands
 * there): the truth, not a flag this code sets.
 */
export function systemInformationLoaded(): boolean {
  return Object.keys(createRequire(import.meta.url).cache).some((path) => /[\\/]node_modules[\\/]systeminformation[\\/]/.test(path));
}
