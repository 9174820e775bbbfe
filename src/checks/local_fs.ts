import { readFileSync } from "node:fs";

/*
 * Whether the file checks may touch the file system synchronously.
 *
 * An asynchronous stat is a round trip through libuv's thread pool: cheap in
 * CPU, but each one wakes a worker thread, and on a loaded host that wake-up
 * is a context switch that costs the event loop far more than the stat itself
 * (a cached stat takes microseconds). A synchronous call on a hung file system
 * (an NFS server gone away) would block the daemon's event loop, so SWIM
 * would stop answering probes and a healthy node would be declared dead.
 *
 * So synchronous calls are used only while every file system mounted on the
 * host is of a kind that lives on this machine (the allow-list below, read
 * from /proc/self/mountinfo): then no path, whatever its symbolic links, can
 * reach a remote server. One network, FUSE or automount file system anywhere
 * switches every check to the thread pool. The mount table is read again at
 * most once a second, so a mount made later is noticed.
 */

/** File system types that cannot wait on another machine or a user-space server. */
const LOCAL_TYPES = new Set([
  "ext2",
  "ext3",
  "ext4",
  "xfs",
  "btrfs",
  "f2fs",
  "jfs",
  "reiserfs",
  "zfs",
  "vfat",
  "exfat",
  "ntfs3",
  "iso9660",
  "squashfs",
  "erofs",
  "tmpfs",
  "ramfs",
  "overlay",
  "devtmpfs",
  "devpts",
  "proc",
  "sysfs",
  "cgroup",
  "cgroup2",
  "mqueue",
  "hugetlbfs",
  "debugfs",
  "tracefs",
  "securityfs",
  "pstore",
  "bpf",
  "configfs",
  "efivarfs",
  "binfmt_misc",
  "fusectl",
  "nsfs",
  "rpc_pipefs",
  "selinuxfs",
]);

/** The mount points whose file system type is not on the local allow-list. */
export function nonLocalMounts(mountinfo: string): { mountPoint: string; type: string }[] {
  const out: { mountPoint: string; type: string }[] = [];
  for (const line of mountinfo.split("\n")) {
    if (line === "") continue;
    const fields = line.split(" ");
    const dash = fields.indexOf("-");
    const type = dash >= 0 ? fields[dash + 1] : undefined;
    if (type === undefined) continue; // not a mountinfo line
    if (!LOCAL_TYPES.has(type)) out.push({ mountPoint: unescapeOctal(fields[4] ?? "?"), type });
  }
  return out;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export class LocalFsProbe {
  private checkedAt = -Infinity;
  private local = false;

  constructor(
    private readonly readMountinfo: () => string = () => readFileSync("/proc/self/mountinfo", "utf8"),
    private readonly now: () => number = () => performance.now(),
    private readonly maxAgeMs = 1000,
  ) {}

  /** True when every mounted file system is local (false when the mount table cannot be read). */
  allLocal(): boolean {
    const t = this.now();
    if (t - this.checkedAt < this.maxAgeMs) return this.local;
    this.checkedAt = t;
    try {
      const info = this.readMountinfo();
      this.local = info.length > 0 && nonLocalMounts(info).length === 0;
    } catch {
      this.local = false; // no /proc (macOS, BSD) or no permission: stay on the thread pool
    }
    return this.local;
  }
}

const probe = new LocalFsProbe();

/** Whether the file checks of a batch starting now may use synchronous calls (see above). */
export function syncFileIoAllowed(): boolean {
  return probe.allLocal();
}
