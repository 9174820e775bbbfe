/** The message of a thrown value, whatever was thrown (an Error, a string, anything else). */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === "string" ? err : String(err);
}
