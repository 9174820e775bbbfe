import assert from "node:assert/strict";
import { join } from "node:path";
import { homedir } from "node:os";
import { describe, it } from "node:test";
import { compileCacheDir } from "../src/cmdline/compile_cache.js";

/*
 * Where gcheck and gossipcheckd keep V8's compile cache: Node's own
 * NODE_COMPILE_CACHE wins, then the XDG cache home, then ~/.cache.
 */

describe("compileCacheDir", () => {
  it("leaves the choice to Node when NODE_COMPILE_CACHE is set", () => {
    assert.equal(compileCacheDir({ NODE_COMPILE_CACHE: "/somewhere", XDG_CACHE_HOME: "/x" }), undefined);
  });

  it("uses $XDG_CACHE_HOME/gossipcheck when it is absolute", () => {
    assert.equal(compileCacheDir({ XDG_CACHE_HOME: "/x/cache" }), "/x/cache/gossipcheck/node-compile-cache");
  });

  it("ignores a relative $XDG_CACHE_HOME (invalid by the XDG spec) and falls back to ~/.cache", () => {
    assert.equal(compileCacheDir({ XDG_CACHE_HOME: "rel/cache" }), join(homedir(), ".cache/gossipcheck/node-compile-cache"));
    assert.equal(compileCacheDir({}), join(homedir(), ".cache/gossipcheck/node-compile-cache"));
  });
});
