import type { VNode } from "preact";
import { useState } from "preact/hooks";
import { post } from "../api.js";
import { connection } from "../connection.js";
import type { BatchEvent, BatchRequestBody, ErrorBody } from "../contract.js";
import { go } from "../route.js";

/*
 * Submit a batch: a check file pasted or read from a file (sent as text in
 * checkFile: the daemon parses it as gcheck does, so a bad file comes back
 * as a 400 naming line and field), dry-run, targeting, timeout. POST
 * /v1/check answers an NDJSON stream of BatchEvent; on "accepted" the page
 * moves to the batch's grid, which streams its results itself. The POST's
 * stream is read to its end in the background so the daemon sees a client
 * that stays.
 */

/** "role=web, dc=eu" -> tags, or the word that is not k=v. */
export function parseTags(text: string): Record<string, string> | string {
  const tags: Record<string, string> = {};
  for (const word of text.split(/[\s,]+/).filter(Boolean)) {
    const eq = word.indexOf("=");
    if (eq <= 0) return word;
    tags[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return tags;
}

export function Submit(): VNode {
  const [text, setText] = useState("");
  const [dryRun, setDryRun] = useState(false);
  const [nodes, setNodes] = useState("");
  const [tags, setTags] = useState("");
  const [timeoutS, setTimeoutS] = useState("30");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const onFile = (e: Event): void => {
    const file = (e.currentTarget as HTMLInputElement).files?.[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => setText(String(reader.result ?? ""));
    reader.onerror = () => setError(`could not read ${file.name}: ${reader.error?.message ?? "unknown error"}`);
    reader.readAsText(file);
  };

  const onSubmit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setError("");
    if (!text.trim()) return setError("The check file is empty: paste one or choose a file.");
    const t = parseTags(tags);
    if (typeof t === "string") return setError(`Tag "${t}" is not key=value.`);
    const seconds = Number(timeoutS);
    if (!Number.isFinite(seconds) || seconds <= 0) return setError(`Timeout "${timeoutS}" is not a number of seconds above 0.`);
    const body: BatchRequestBody = {
      checkFile: text,
      dryRun,
      nodes: nodes.split(/[\s,]+/).filter(Boolean),
      tags: t,
      timeoutMs: Math.round(seconds * 1000),
    };
    setBusy(true);
    try {
      const res = await post("/v1/check", body);
      if (res.status === 401) connection.refusedByDaemon();
      if (!res.ok || !res.body) {
        const answer = (await res.json().catch(() => null)) as ErrorBody | null;
        return setError(answer?.error ?? `The daemon answered ${res.status} ${res.statusText}.`);
      }
      await readEvents(res.body, (ev) => {
        if (ev.type === "accepted") go(`#/batches/${ev.batchId}`);
        else if (ev.type === "error") setError(ev.error);
      });
    } catch (err) {
      setError(`Could not reach the daemon: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="view submit">
      <form id="submit-form" onSubmit={(e) => void onSubmit(e)}>
        <label for="check-file">Check file (JSON or YAML, gossipcheck's format or a Goss gossfile)</label>
        <textarea
          id="check-file"
          name="checkFile"
          rows={14}
          spellcheck={false}
          placeholder={'{\n  "resolv_has_8888": {"type": "file_contains", "path": "/etc/resolv.conf", "check": "8.8.8.8"}\n}'}
          value={text}
          onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
        />
        <label>
          …or upload one <input id="check-file-upload" type="file" accept=".json,.yaml,.yml,application/json,text/yaml,text/plain" onChange={onFile} />
        </label>
        <div class="fields">
          <label>
            <input id="dry-run" type="checkbox" checked={dryRun} onChange={(e) => setDryRun((e.currentTarget as HTMLInputElement).checked)} /> Dry run (evaluate everywhere, run no action)
          </label>
          <label>
            Nodes <input id="target-nodes" type="text" placeholder="web-1, web-2 (empty: all)" value={nodes} onInput={(e) => setNodes((e.currentTarget as HTMLInputElement).value)} />
          </label>
          <label>
            Tags <input id="target-tags" type="text" placeholder="role=web, dc=eu" value={tags} onInput={(e) => setTags((e.currentTarget as HTMLInputElement).value)} />
          </label>
          <label>
            Timeout (s) <input id="timeout" type="number" min="1" step="1" value={timeoutS} onInput={(e) => setTimeoutS((e.currentTarget as HTMLInputElement).value)} />
          </label>
        </div>
        {error && (
          <p class="error" id="submit-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" id="submit-button" disabled={busy}>
          {busy ? "Submitting…" : "Submit batch"}
        </button>
      </form>
    </section>
  );
}

/** Reads an NDJSON body line by line. */
async function readEvents(body: ReadableStream<Uint8Array>, on: (e: BatchEvent) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) on(JSON.parse(line) as BatchEvent);
    }
  }
  if (buffered.trim()) on(JSON.parse(buffered) as BatchEvent);
}
