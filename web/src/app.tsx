import type { VNode } from "preact";
import { useEffect, useState } from "preact/hooks";
import { getJson, post } from "./api.js";
import { useConnectionStatus } from "./connection.js";
import type { DaemonInfo } from "./contract.js";
import { type Page, useRoute } from "./route.js";
import { Batch } from "./views/batch.js";
import { Batches } from "./views/batches.js";
import { Checks } from "./views/checks.js";
import { Members } from "./views/members.js";
import { Stats } from "./views/stats.js";
import { Submit } from "./views/submit.js";

/*
 * The page: header with the daemon's name, the nav, the banner when the
 * daemon is out of reach or wants a sign-in, and the view of the route.
 * Only the shown view holds a stream open.
 */

const NAV: { page: Page; href: string; label: string }[] = [
  { page: "members", href: "#/members", label: "Members" },
  { page: "stats", href: "#/stats", label: "Stats" },
  { page: "batches", href: "#/batches", label: "Batches" },
  { page: "checks", href: "#/checks", label: "Checks" },
  { page: "submit", href: "#/submit", label: "Submit" },
];

export function App(): VNode {
  const route = useRoute();
  const status = useConnectionStatus();
  const [info, setInfo] = useState<DaemonInfo | null>(null);
  useEffect(() => {
    void getJson<DaemonInfo>("/v1/info").then((i) => {
      setInfo(i);
      if (i) document.title = `${i.name} · gossipcheck`;
    });
  }, [status === "ok"]);

  const signOut = async (): Promise<void> => {
    await post("/ui/logout").catch(() => undefined);
    location.href = "/ui/";
  };

  const current = route.page === "batch" ? "batches" : route.page;
  return (
    <>
      <header class="top">
        <h1>
          gossipcheck <span id="daemon-name">{info?.name ?? ""}</span>
        </h1>
        <nav aria-label="views">
          {NAV.map((n) => (
            <a key={n.page} href={n.href} aria-current={current === n.page ? "page" : undefined}>
              {n.label}
            </a>
          ))}
        </nav>
        <button type="button" id="sign-out" class="quiet" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      {status !== "ok" && (
        <div class="banner" id="connection-banner" role="status">
          {status === "refused" ? "Not signed in." : "Not signed in, or the connection to the daemon is lost: reconnecting…"} <a href="/ui/login.html">Sign in</a>
        </div>
      )}
      <main>
        {route.page === "members" && <Members />}
        {route.page === "stats" && <Stats />}
        {route.page === "batches" && <Batches />}
        {route.page === "batch" && route.id && <Batch key={route.id} id={route.id} />}
        {route.page === "checks" && <Checks />}
        {route.page === "submit" && <Submit />}
      </main>
    </>
  );
}
