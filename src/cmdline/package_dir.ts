/*
 * The installed package's folder (where package.json and dist/ are), three
 * folders above this compiled file (dist/src/cmdline/package_dir.js). Every
 * path into the package is built from this one, here, because in the bundles
 * the executables load (dist/src/daemon/main.bundle.js and the rest:
 * scripts/build-bins.mjs) import.meta.url is the bundle's: a path relative to
 * it is right in both only one folder below dist/src, like this file and the
 * bundles (the build fails on one built anywhere else).
 */
export const PACKAGE_DIR_URL = new URL("../../../", import.meta.url);
