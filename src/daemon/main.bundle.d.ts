/*
 * The type of dist/src/daemon/main.bundle.js, main.ts and everything it
 * imports as one module (scripts/build-bins.mjs), which bin.ts imports: it
 * exports nothing, like main.ts.
 */
export {};
