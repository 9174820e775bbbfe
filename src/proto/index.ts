// The generated protobuf code (see scripts/gen-proto.mjs). Layers import the
// message classes from here, never from wire.js directly.
import { gossipcheck } from "./wire.js";
export { gossipcheck as pb };
export { PROTOCOL_VERSION } from "./version.js";
