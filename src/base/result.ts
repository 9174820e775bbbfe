/**
 * The one way a boundary (parsing a flag or a file, decoding bytes from the
 * network, loading a key) says "here it is" or "here is why not": errors are
 * values there, exceptions are for bugs. `error` is a sentence for a person
 * unless a caller chooses a code type.
 */
export type Result<T, E = string> = { ok: true; value: T } | { ok: false; error: E };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail<E = string>(error: E): { ok: false; error: E } {
  return { ok: false, error };
}

/** The message of a thrown value, whatever was thrown (an Error, a string, anything else). */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === "string" ? err : String(err);
}
