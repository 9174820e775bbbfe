/*
 * Defaults both binaries must agree on: where gcheck looks for the daemon's
 * control API is where the daemon listens unless told otherwise.
 */

/** The control API's address (-cli-bind; gcheck -server). Loopback: off loopback a token is required. */
export const DEFAULT_CLI_BIND = "127.0.0.1:5924";
