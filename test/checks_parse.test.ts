import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadCheckFile, parseCheckFile, parseCheckObject, parseDuration, type ParseResult } from "../src/checks/index.js";
import { CHECK_TYPES } from "../src/checks/types.js";

const examples = fileURLToPath(new URL("../../examples/checks/", import.meta.url));

function errorsOf(r: ParseResult): string[] {
  assert.equal(r.ok, false, `expected the document to be rejected, got ${JSON.stringify(r)}`);
  return r.ok ? [] : r.errors;
}

/** Parses a one-check document and returns its single error message. */
function oneError(check: unknown, name = "c1"): string {
  const errors = errorsOf(parseCheckFile(JSON.stringify({ [name]: check }), "f.json"));
  assert.equal(errors.length, 1, `expected one error, got ${JSON.stringify(errors)}`);
  return errors[0]!;
}

/** Asserts that a message names the file, the check and the field, and carries each expected fragment. */
function assertNames(message: string, check: string, field: string | null, ...fragments: string[]) {
  assert.ok(message.startsWith("f.json: "), `no file name in: ${message}`);
  assert.ok(message.includes(`check ${JSON.stringify(check)}`), `no check name in: ${message}`);
  if (field !== null) assert.ok(message.includes(`field ${JSON.stringify(field)}`), `no field name in: ${message}`);
  for (const f of fragments) assert.ok(message.includes(f), `expected ${JSON.stringify(f)} in: ${message}`);
}

describe("check files: the original gossipcheck format", () => {
  it("reads DESIGN.md's three checks exactly, in file order", async () => {
    const r = await loadCheckFile(join(examples, "original.json"));
    assert.deepEqual(r, {
      ok: true,
      checks: [
        { name: "resolv_has_8888", type: "file_contains", path: "/etc/resolv.conf", check: "8.8.8.8", action: "echo 8.8.8.8 >> /etc/resolv.conf" },
        { name: "syslog_pidfile_exists", type: "file_exists", path: "/var/run/syslog.pid", action: "shutdown -r now" },
        { name: "check_nginx_running", type: "process_running", path: "/usr/bin/nginx", action: "service nginx restart" },
      ],
    });
  });

  it("reads the demo file with its timeout and descriptions", async () => {
    const r = await loadCheckFile(join(examples, "demo.json"));
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(
      r.checks.map((c) => c.name),
      ["hostname_file_exists", "os_release_has_id", "node_is_running", "demo_marker_exists"],
    );
    assert.equal(r.checks[3]!.timeoutMs, 10_000);
    assert.ok(r.checks.every((c) => typeof c.description === "string"));
  });

  it("keeps file order even for integer-like names, which JS objects would move first", () => {
    const r = parseCheckFile(
      '{"b": {"type": "file_exists", "path": "/b"}, "10": {"type": "file_exists", "path": "/10"}, "a": {"type": "file_exists", "path": "/a"}, "2": {"type": "file_exists", "path": "/2"}}',
      "f.json",
    );
    assert.ok(r.ok);
    assert.deepEqual(
      r.checks.map((c) => c.name),
      ["b", "10", "a", "2"],
    );
  });

  it("accepts any non-empty name, a byte order mark, and treats empty strings as not given", () => {
    const r = parseCheckFile('\ufeff{"nginx läuft / 🚀": {"type": "process_running", "path": "", "check": "nginx", "action": "", "description": ""}}', "f.json");
    assert.deepEqual(r, { ok: true, checks: [{ name: "nginx läuft / 🚀", type: "process_running", check: "nginx" }] });
  });

  it("validates an already-parsed document (a control API body) with the same rules", () => {
    assert.deepEqual(parseCheckObject({ x: { type: "file_exists", path: "/x" } }, "request body"), { ok: true, checks: [{ name: "x", type: "file_exists", path: "/x" }] });
    assert.deepEqual(errorsOf(parseCheckObject([], "request body")), [
      'request body: the top level is an array: expected a JSON object mapping check names to checks, e.g. {"hostname_exists": {"type": "file_exists", "path": "/etc/hostname"}}',
    ]);
  });
});

describe("check files: malformed JSON is reported with line and column", () => {
  const cases: [string, string, string][] = [
    ["a missing comma", '{\n  "a": {"type": "file_exists", "path": "/a"}\n  "b": {}\n}', 'f.json:3:3: malformed JSON: expected "," or "}" after the value of "a", found "\\""'],
    ["a trailing comma", '{\n  "a": {"type": "file_exists", "path": "/a"},\n}', 'f.json:2:45: malformed JSON: trailing comma before "}" (JSON does not allow it)'],
    ["single quotes", "{'a': 1}", `f.json:1:2: malformed JSON: expected a double-quoted key, found "'" (JSON strings and keys need double quotes)`],
    ["a comment", '{\n  // my checks\n  "a": 1}', 'f.json:2:3: malformed JSON: expected a double-quoted key, found "//" (JSON does not allow comments)'],
    ["an unclosed string", '{"a": {"type": "file_exists}}', "f.json:1:16: malformed JSON: string is not closed (missing closing double quote)"],
    ["a line break in a string", '{"a": {"type": "file_\nexists"}}', "f.json:1:22: malformed JSON: line break inside a string (write it as \\n)"],
    ["an unclosed object", '{"a": {"type": "file_exists"}', 'f.json:1:30: malformed JSON: unexpected end of file: expected "," or "}" after the value of "a"'],
    ["a bare word", '{"a": file_exists}', 'f.json:1:7: malformed JSON: expected a value (string, number, object, array, true, false or null), found "f"'],
    ["text after the object", '{"a": 1} {"b": 2}', 'f.json:1:10: malformed JSON: unexpected "{" after the end of the JSON value'],
    ["a missing colon", '{"a" {"type": "file_exists"}}', 'f.json:1:6: malformed JSON: expected ":" after the key "a", found "{"'],
  ];
  for (const [what, text, message] of cases) {
    it(`names the place of ${what}`, () => {
      assert.deepEqual(errorsOf(parseCheckFile(text, "f.json")), [message]);
    });
  }

  it("reports the shipped invalid-syntax example at its line", async () => {
    const errors = errorsOf(await loadCheckFile(join(examples, "invalid-syntax.json")));
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /invalid-syntax\.json:3:3: malformed JSON: expected "," or "}" after the value of "hostname_file_exists"/);
  });

  it("survives hostile nesting without overflowing the stack", () => {
    const deep = "[".repeat(200_000);
    assert.match(errorsOf(parseCheckFile(deep, "f.json"))[0]!, /^f\.json:1:200001: malformed JSON: expected a value/);
    const nested = '{"a": {"type": "file_exists", "path": ' + "[".repeat(100_000) + "]".repeat(100_000) + "}}";
    const errors = errorsOf(parseCheckFile(nested, "f.json"));
    assert.deepEqual(errors, ['f.json: check "a": field "path": expected a string (the path of a file), got an array']);
  });
});

describe("check files: the shape of the document", () => {
  it("rejects an empty file and one of only whitespace", () => {
    for (const text of ["", "  \n\t\n"]) {
      assert.deepEqual(errorsOf(parseCheckFile(text, "f.json")), [
        'f.json: the file is empty: expected a JSON object mapping check names to checks, e.g. {"hostname_exists": {"type": "file_exists", "path": "/etc/hostname"}}',
      ]);
    }
  });

  it("rejects {} as a file without checks", () => {
    assert.match(errorsOf(parseCheckFile("{ }", "f.json"))[0]!, /^f\.json: the file contains no checks: expected a JSON object mapping check names/);
  });

  it("rejects a top level that is not an object, saying what it is", () => {
    const seen = ["[]", '"checks"', "null", "42", "true"].map((t) => errorsOf(parseCheckFile(t, "f.json"))[0]!.split(":")[1]);
    assert.deepEqual(seen, [" the top level is an array", ' the top level is the string "checks"', " the top level is null", " the top level is number 42", " the top level is boolean true"]);
  });

  it("rejects a check that is not an object", () => {
    assertNames(oneError("file_exists /etc/hostname"), "c1", null, 'expected an object such as {"type": "file_exists", "path": "/etc/hostname"}, got the string "file_exists /etc/hostname"');
  });

  it("rejects an empty check name", () => {
    assert.deepEqual(errorsOf(parseCheckFile('{"": {"type": "file_exists", "path": "/x"}}', "f.json")), ["f.json: a check has an empty name: give every check a non-empty name"]);
  });

  it("rejects two checks of the same name, which JSON.parse would silently merge", () => {
    const errors = errorsOf(parseCheckFile('{\n"a": {"type": "file_exists", "path": "/1"},\n"a": {"type": "file_exists", "path": "/2"}\n}', "f.json"));
    assert.deepEqual(errors, ['f.json: check "a" is defined twice (lines 2 and 3): give each check its own name']);
  });

  it("does not mistake keys of objects inside arrays for check names", () => {
    assert.deepEqual(
      errorsOf(parseCheckFile('[{"a": 1, "a": 2}]', "f.json")).map((e) => e.split(":")[1]),
      [" the top level is an array"],
    );
  });

  it("rejects a field given twice in one check", () => {
    const errors = errorsOf(parseCheckFile('{"a": {"type": "file_exists",\n "path": "/1",\n "path": "/2"}}', "f.json"));
    assert.deepEqual(errors, ['f.json: check "a": field "path" is given twice (lines 2 and 3): keep one']);
  });
});

describe('check files: keys starting with "$" are for tools', () => {
  it('ignores "$schema" and any other "$" key, at the top level and in a check, whatever its value', () => {
    const text = JSON.stringify({
      $schema: "../../schema/checks.schema.json",
      $comment: ["notes", 1],
      c1: { type: "file_exists", path: "/x", $comment: { why: "because" } },
      $c2: { type: "bogus" },
    });
    assert.deepEqual(parseCheckFile(text, "f.json"), { ok: true, checks: [{ name: "c1", type: "file_exists", path: "/x" }] });
    assert.deepEqual(parseCheckObject(JSON.parse(text), "body"), { ok: true, checks: [{ name: "c1", type: "file_exists", path: "/x" }] });
  });

  it("does not count a repeated $ key as a check defined twice", () => {
    const r = parseCheckFile('{"$comment": "a", "$comment": "b", "c1": {"type": "file_exists", "path": "/x", "$x": 1, "$x": 2}}', "f.json");
    assert.equal(r.ok, true, JSON.stringify(r));
  });

  it('rejects a file of only "$" keys as one without checks, saying they are ignored', () => {
    assert.match(
      errorsOf(parseCheckFile('{"$schema": "checks.schema.json"}', "f.json"))[0]!,
      /^f\.json: the file contains no checks \(keys starting with "\$", such as "\$schema", are for tools and ignored\)/,
    );
  });

  it("reads the shipped demo file with its $schema pointing at the schema", async () => {
    const r = await loadCheckFile(join(examples, "demo.json"));
    assert.ok(r.ok && r.checks.length === 4, JSON.stringify(r));
  });
});

describe("check files: fields of a check", () => {
  it("requires type, listing the known ones", () => {
    assertNames(oneError({ path: "/x" }), "c1", "type", "is missing", "file_exists, file_contains, process_running");
  });

  it("rejects an unknown type, listing the known ones and guessing the intended one", () => {
    assertNames(oneError({ type: "file_exist", path: "/x" }), "c1", "type", 'unknown type "file_exist"', "known types: file_exists, file_contains, process_running", 'did you mean "file_exists"?');
    assertNames(oneError({ type: "http_get", path: "/x" }), "c1", "type", 'unknown type "http_get"');
    assert.ok(!oneError({ type: "http_get", path: "/x" }).includes("did you mean"));
  });

  it("rejects an unknown field such as a typo, listing the known fields", () => {
    assertNames(
      oneError({ type: "file_exists", path: "/x", pth: "/y" }),
      "c1",
      "pth",
      "is unknown",
      "known fields: type, path, check, action, timeout, keep_children, description",
      'did you mean "path"?',
    );
  });

  it("rejects fields of the wrong JSON type, saying what was expected and what was found", () => {
    assertNames(oneError({ type: 7, path: "/x" }), "c1", "type", "expected a string", "got number 7");
    assertNames(oneError({ type: "file_exists", path: 42 }), "c1", "path", "expected a string (the path of a file), got number 42");
    assertNames(oneError({ type: "file_contains", path: "/x", check: ["a"] }), "c1", "check", "expected a string (the text to search for), got an array");
    assertNames(oneError({ type: "process_running", check: "x", path: null }), "c1", "path", "expected a string (a substring of the executable path), got null");
    assertNames(oneError({ type: "file_exists", path: "/x", action: { run: "x" } }), "c1", "action", "expected a string (a shell command", "got an object");
    assertNames(oneError({ type: "file_exists", path: "/x", description: false }), "c1", "description", "got boolean false");
    assertNames(oneError({ type: "file_exists", path: "/x", timeout: true }), "c1", "timeout", 'expected a duration such as "30s"', "got boolean true");
    assertNames(oneError({ type: "file_exists", path: "/x", keep_children: "yes" }), "c1", "keep_children", "expected true (leave running what the action starts) or false", 'got the string "yes"');
  });

  it("reads keep_children: true into the check, and false as not given", () => {
    const parsed = (c: unknown) => parseCheckFile(JSON.stringify({ c1: c }), "f.json");
    assert.deepEqual(parsed({ type: "file_exists", path: "/x", action: "nginx &", keep_children: true }), {
      ok: true,
      checks: [{ name: "c1", type: "file_exists", path: "/x", action: "nginx &", keepChildren: true }],
    });
    assert.deepEqual(parsed({ type: "file_exists", path: "/x", keep_children: false }), { ok: true, checks: [{ name: "c1", type: "file_exists", path: "/x" }] });
  });

  it("requires path for file checks, and refuses it empty", () => {
    assertNames(oneError({ type: "file_exists" }), "c1", "path", "is missing: file_exists needs the path of the file to look for");
    assertNames(oneError({ type: "file_exists", path: "" }), "c1", "path", "is empty: file_exists needs the path");
    assertNames(oneError({ type: "file_contains", check: "x" }), "c1", "path", "is missing: file_contains needs the path of the file to search");
  });

  it("requires a non-empty check for file_contains (an empty needle is found in every file)", () => {
    assertNames(oneError({ type: "file_contains", path: "/x" }), "c1", "check", "is missing: file_contains needs the text to search for");
    assertNames(oneError({ type: "file_contains", path: "/x", check: "" }), "c1", "check", "is empty", "could never fail", "use file_exists");
  });

  it("refuses check on file_exists, pointing to file_contains", () => {
    assertNames(oneError({ type: "file_exists", path: "/x", check: "y" }), "c1", "check", "is not used by file_exists", 'use type "file_contains"');
  });

  it("requires path or check for process_running", () => {
    for (const c of [{ type: "process_running" }, { type: "process_running", path: "", check: "" }, { type: "process_running", action: "x" }]) {
      assertNames(oneError(c), "c1", null, 'process_running needs "path"', '"check" (a substring of its command line), or both');
    }
  });

  it("accepts durations for timeout and refuses others", () => {
    const ms = (timeout: unknown) => {
      const r = parseCheckFile(JSON.stringify({ c1: { type: "file_exists", path: "/x", action: "true", timeout } }), "f.json");
      return r.ok ? r.checks[0]!.timeoutMs : undefined;
    };
    assert.deepEqual([ms("500ms"), ms("30s"), ms("2m"), ms("1h"), ms("1m30s"), ms("1.5s"), ms(30), ms(0.25), ms("45")], [500, 30_000, 120_000, 3_600_000, 90_000, 1500, 30_000, 250, 45_000]);
    assertNames(oneError({ type: "file_exists", path: "/x", timeout: "30 seconds" }), "c1", "timeout", '"30 seconds" is not a duration', '"500ms"');
    assertNames(oneError({ type: "file_exists", path: "/x", timeout: "0s" }), "c1", "timeout", "must be greater than zero");
    assertNames(oneError({ type: "file_exists", path: "/x", timeout: 0 }), "c1", "timeout", "must be greater than zero");
    assertNames(oneError({ type: "file_exists", path: "/x", timeout: -5 }), "c1", "timeout", "must be greater than zero");
    assertNames(oneError({ type: "file_exists", path: "/x", timeout: "-5s" }), "c1", "timeout", "is not a duration");
  });

  it("collects every error of every check, not only the first", async () => {
    const errors = errorsOf(await loadCheckFile(join(examples, "invalid-fields.json")));
    const file = join(examples, "invalid-fields.json");
    assert.deepEqual(errors, [
      `${file}: check "typo_in_field_name": field "pth" is unknown (known fields: type, path, check, action, timeout, keep_children, description, interval, splay, quorum, mode, owner, group, filetype, size, sha256, max_age; did you mean "path"?)`,
      `${file}: check "typo_in_field_name": field "path" is missing: file_exists needs the path of the file to look for`,
      `${file}: check "unknown_type": field "type": unknown type "file_exist" (known types: ${CHECK_TYPES.join(", ")}; did you mean "file_exists"?)`,
      `${file}: check "contains_without_check": field "check" is missing: file_contains needs the text to search for`,
      `${file}: check "process_without_criteria": process_running needs "path" (a substring of the process's executable path) or "check" (a substring of its command line), or both`,
      `${file}: check "bad_timeout": field "timeout": "30 seconds" is not a duration (expected a duration such as "30s", "500ms", "2m", "1h" or a number of seconds)`,
      `${file}: check "path_not_a_string": field "path": expected a string (the path of a file), got number 42`,
    ]);
  });
});

describe("check files: reading them", () => {
  it("names a missing file and says what to do", async () => {
    assert.deepEqual(errorsOf(await loadCheckFile("/nonexistent/checks.json")), ["/nonexistent/checks.json: no such file: check the path given with -file"]);
  });

  it("names a directory given as a file", async () => {
    assert.deepEqual(errorsOf(await loadCheckFile(examples)), [`${examples}: is a directory: give the path of a check file (JSON) with -file`]);
  });

  it("refuses a file that is not UTF-8", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gossipcheck-parse-"));
    try {
      const p = join(dir, "latin1.json");
      await writeFile(p, Buffer.from('{"caf\xe9": {"type": "file_exists", "path": "/x"}}', "latin1"));
      assert.deepEqual(errorsOf(await loadCheckFile(p)), [`${p}: not UTF-8 text: a check file is JSON or YAML, save it as UTF-8`]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("parseDuration", () => {
  it("reads units, sequences and plain seconds, and refuses the rest", () => {
    assert.deepEqual(["500ms", "30s", "2m", "1h", "1h2m3s", "0.5s", "10", 10, 0, "0s"].map(parseDuration), [500, 30_000, 120_000, 3_600_000, 3_723_000, 500, 10_000, 10_000, 0, 0]);
    assert.deepEqual(["30d", "1d12h"].map(parseDuration), [30 * 86_400_000, 36 * 3_600_000]);
    assert.deepEqual(["", "s", "30 s", " 30s", "30sec", "1w", "-1s", "1e3", ".5s", "30S"].map(parseDuration), Array(10).fill(null));
    assert.deepEqual([-1, NaN, Infinity].map(parseDuration), [null, null, null]);
  });
});

describe("scheduled checks: interval, splay, quorum", () => {
  it("reads them on any type, a zero splay being no splay", async () => {
    const r = parseCheckFile(
      JSON.stringify({
        a: { type: "file_exists", path: "/x", interval: "1m30s", splay: "10s", quorum: 2 },
        b: { type: "http", url: "http://x/", interval: 1, splay: 0, quorum: "majority" },
        c: { type: "file_exists", path: "/x", interval: "24h", splay: "24h" },
      }),
      "f.json",
    );
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(
      r.checks.map((c) => [c.intervalMs, c.splayMs, c.quorum]),
      [
        [90_000, 10_000, 2],
        [1000, undefined, "majority"],
        [86_400_000, 86_400_000, undefined],
      ],
    );
    const example = await loadCheckFile(join(examples, "scheduled.json"));
    assert.ok(example.ok && example.checks.every((c) => c.intervalMs !== undefined), JSON.stringify(example));
  });

  it("names the file, check and field of each mistake and says what to give", () => {
    const base = { type: "file_exists", path: "/x" };
    assertNames(oneError({ ...base, interval: "999ms" }), "c1", "interval", "is shorter than 1s", 'give "1s" or more');
    assertNames(oneError({ ...base, interval: 0 }), "c1", "interval", "is shorter than 1s");
    assertNames(oneError({ ...base, interval: "24h0m1s" }), "c1", "interval", "is longer than a day", '"24h"');
    assertNames(oneError({ ...base, interval: "often" }), "c1", "interval", "is not a duration");
    assertNames(oneError({ ...base, interval: true }), "c1", "interval", "expected a duration");
    assertNames(oneError({ ...base, interval: "10s", splay: "11s" }), "c1", "splay", "is longer than the interval");
    assertNames(oneError({ ...base, interval: "10s", splay: -1 }), "c1", "splay", "is negative");
    assertNames(oneError({ ...base, splay: "1s" }), "c1", "splay", 'needs an "interval"');
    assertNames(oneError({ ...base, quorum: 3 }), "c1", "quorum", 'needs an "interval"');
    for (const q of [0, -1, 1.5, "3", "most", null]) assertNames(oneError({ ...base, interval: "1m", quorum: q }), "c1", "quorum", 'a positive whole number of nodes or "majority"');
  });
});
