// The dashboard's stylesheet and script, served from their own paths so that
// the Content-Security-Policy allows no inline code at all: a value that
// escaped its escaping still could not run. No front-end build: plain text.

export const DASHBOARD_CSS_PATH = "/dashboard.css";
export const DASHBOARD_JS_PATH = "/dashboard.js";
export const EVENTS_PATH = "/events";
/** Linked by the page, so that browsers do not ask for /favicon.ico and log its 404. */
export const FAVICON_PATH = "/favicon.svg";

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="6" fill="#1a7f37"/></svg>
`;

/** Same-origin script, style and EventSource; nothing else, no framing, no forms. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers of every dashboard response: the policy, and no sniffing, referrer or framing. */
export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
};

// The page swaps in the fragment /events sends; the server renders and escapes
// it exactly as it rendered the page. EventSource reconnects by itself.
export const DASHBOARD_JS = `"use strict";
(() => {
  const live = document.getElementById("live");
  const state = document.getElementById("connection");
  if (!live || !state || typeof EventSource !== "function") return;
  const say = (words, kind) => {
    state.textContent = words;
    state.className = kind;
  };
  const events = new EventSource(live.dataset.events);
  events.addEventListener("open", () => say("live", "live"));
  events.addEventListener("error", () => say("reconnecting", "stale"));
  events.addEventListener("page", (event) => {
    live.innerHTML = JSON.parse(event.data).html;
    say("live, updated " + new Date().toISOString().slice(11, 19) + "Z", "live");
  });
})();
`;

export const DASHBOARD_CSS = `:root { color-scheme: light dark; --ok: #1a7f37; --bad: #cf222e; --progress: #9a6700; --muted: #6e7781; --line: #d0d7de; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1400px; padding: 0.5rem 1rem 2rem; font: 14px/1.4 system-ui, sans-serif; }
header { display: flex; align-items: baseline; gap: 1rem; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.3rem; margin: 0.3rem 0; }
h2 { font-size: 1.1rem; margin: 1.2rem 0 0.4rem; }
h3 { font-size: 1rem; margin: 0.8rem 0 0.3rem; }
small, .none, .why, caption { color: var(--muted); }
caption { text-align: left; font-size: 0.85rem; }
code { font: 0.85rem ui-monospace, monospace; }
section.cluster { border-top: 1px solid var(--line); margin-top: 1rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: 0.3rem 0; }
th, td { text-align: left; vertical-align: top; padding: 0.2rem 0.5rem; border-bottom: 1px solid var(--line); }
thead th { font-weight: 600; font-size: 0.85rem; color: var(--muted); }
td.msg { max-width: 40rem; overflow-wrap: anywhere; }
dl.facts { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 0.1rem 0.8rem; margin: 0.3rem 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 0 0.4rem; border-radius: 0.6rem; font-size: 0.8rem; color: #fff; background: var(--muted); }
.badge.ok { background: var(--ok); }
.badge.bad { background: var(--bad); }
.badge.progress { background: var(--progress); }
#connection { font-size: 0.8rem; }
#connection.live { color: var(--ok); }
#connection.stale { color: var(--muted); }
.note { background: #fff8c5; color: #000; padding: 0.3rem 0.6rem; }
ol.steps { display: flex; flex-wrap: wrap; gap: 0.3rem; list-style: none; margin: 0; padding: 0; }
ol.steps li { border: 1px solid var(--line); border-radius: 0.3rem; padding: 0 0.4rem; }
ol.steps li:last-child { border-color: var(--progress); }
ol.steps .msg { display: none; }
li.warn { color: var(--bad); }
ol.log { font-size: 0.85rem; margin: 0.2rem 0; }
td.role.leader { font-weight: 600; }
`;
