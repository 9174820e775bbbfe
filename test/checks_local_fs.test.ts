import { it } from "node:test";
import assert from "node:assert/strict";
import { LocalFsProbe, nonLocalMounts } from "../src/checks/local_fs.js";

const line = (id: number, mountPoint: string, type: string, source = "none") => `${id} 1 0:${id} / ${mountPoint} rw,relatime shared:${id} - ${type} ${source} rw`;

const LOCAL_HOST = [
  line(20, "/", "ext4", "/dev/vda"),
  line(21, "/proc", "proc"),
  line(22, "/sys/fs/cgroup", "cgroup2"),
  line(23, "/tmp", "tmpfs"),
  line(24, "/var/lib/docker/overlay2/x/merged", "overlay"),
  "",
].join("\n");

it("a host with only local file systems has no non-local mounts", () => {
  assert.deepEqual(nonLocalMounts(LOCAL_HOST), []);
});

it("network, FUSE and automount file systems are named with their mount points (octal escapes decoded)", () => {
  const info = [
    LOCAL_HOST.trimEnd(),
    line(30, "/mnt/nfs\\040share", "nfs4", "server:/export"),
    line(31, "/home/u/remote", "fuse.sshfs", "u@host:"),
    line(32, "/net", "autofs", "/etc/auto.net"),
    line(33, "/srv/smb", "cifs", "//srv/share"),
  ].join("\n");
  assert.deepEqual(nonLocalMounts(info), [
    { mountPoint: "/mnt/nfs share", type: "nfs4" },
    { mountPoint: "/home/u/remote", type: "fuse.sshfs" },
    { mountPoint: "/net", type: "autofs" },
    { mountPoint: "/srv/smb", type: "cifs" },
  ]);
});

it("the probe allows synchronous I/O only while every mount is local, and re-reads the table at most once per max age", () => {
  let table = LOCAL_HOST;
  let reads = 0;
  let now = 0;
  const probe = new LocalFsProbe(
    () => (reads++, table),
    () => now,
    1000,
  );
  assert.equal(probe.allLocal(), true);
  table = LOCAL_HOST + line(40, "/mnt/nfs", "nfs") + "\n";
  now = 999;
  assert.equal(probe.allLocal(), true, "cached");
  assert.equal(reads, 1);
  now = 1000;
  assert.equal(probe.allLocal(), false, "the new NFS mount is seen after max age");
  assert.equal(reads, 2);
});

it("an unreadable or empty mount table keeps every check on the thread pool", () => {
  const failing = new LocalFsProbe(() => {
    throw new Error("ENOENT: no /proc here");
  });
  assert.equal(failing.allLocal(), false);
  assert.equal(new LocalFsProbe(() => "").allLocal(), false);
});
