/*
 * The contract reaches src/net/transport.ts (through swim's Address type),
 * which names Node's Buffer in a signature the page never calls. Declaring
 * it here keeps Node's whole type library (and its setTimeout) out of the
 * page's typecheck.
 */
type Buffer = Uint8Array;
