import { render } from "preact";
import { App } from "./app.js";

/*
 * The web view's entry point, bundled by scripts/build-ui.mjs into
 * dist/ui/app.js and loaded by index.html.
 */
const root = document.getElementById("app");
if (root) render(<App />, root);
