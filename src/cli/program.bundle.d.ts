/*
 * The types of dist/src/cli/program.bundle.js, program.ts and everything it
 * imports as one module (scripts/build-bins.mjs), which main.ts imports.
 */
export * from "./program.js";
