/**
 * The protocol version every UDP packet and TCP frame starts with (field 1 of
 * each top-level message). Bump it on any incompatible schema change: a peer
 * speaking another version has its messages dropped and counted, never
 * misread.
 */
export const PROTOCOL_VERSION = 1;
