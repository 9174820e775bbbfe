#!/usr/bin/env node
// Rewrites the "each field only where it applies" rules of
// schema/checks.schema.json from the check-type registry: for every group of
// fields used by the same types, one allOf entry forbids them on every other
// type. Hand-written entries cannot keep up as types are added (several
// types share field names: path, exists, group, command). Run after
// npm run build; test/checks_schema.test.ts checks the result against the
// validator. Usage: npm run build && node scripts/schema-field-rules.mjs
import { fileURLToPath } from "node:url";
import { readFileSync, writeFileSync } from "node:fs";
import { registeredTypes } from "../dist/src/checks/registry.js";
import { CHECK_FIELDS, COMMON_FIELDS } from "../dist/src/checks/validate.js";
import { ORIGINAL_CHECK_TYPES } from "../dist/src/checks/types.js";
const p = fileURLToPath(new URL("../schema/checks.schema.json", import.meta.url));
const s = JSON.parse(readFileSync(p, "utf8"));
const c = s.$defs.check;
const users = new Map();
const add = (f, t) => (users.get(f) ?? users.set(f, new Set()).get(f)).add(t);
for (const t of ORIGINAL_CHECK_TYPES) for (const f of CHECK_FIELDS) if (!COMMON_FIELDS.includes(f)) add(f, f === "path" || f === "check" ? t : "file_exists");
for (const d of registeredTypes()) for (const f of Object.keys(d.fields)) add(f, d.type);
// drop the hand-written "field only where it applies" entries; regenerate them from the registry
c.allOf = c.allOf.filter((e) => !e.if?.properties?.type?.not);
const groups = new Map();
for (const [f, ts] of users) {
  const key = [...ts].sort().join(",");
  (groups.get(key) ?? groups.set(key, []).get(key)).push(f);
}
for (const [key, fields] of groups) {
  c.allOf.push({ if: { properties: { type: { not: { enum: key.split(",") } } } }, then: { properties: Object.fromEntries(fields.map((f) => [f, false])) } });
}
writeFileSync(p, JSON.stringify(s, null, 2) + "\n");
console.log(`${groups.size} field groups`);
