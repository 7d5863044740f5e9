// The dashboard page as a string: everything it shows is there without the
// script (conditions, revisions, members, the rollout, the passes), and no
// value from a manifest or git can add markup or break out of an attribute.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { escapeHtml } from "../../src/dashboard/html.js";
import { renderDashboard, renderLive } from "../../src/dashboard/page.js";
import { viewOf } from "./fixtures.js";

const PLAIN = { cluster: "dev", message: "applying revision aaaa", subject: "bump dev" };

describe("the page without JavaScript", () => {
  const page = renderDashboard(viewOf(PLAIN));

  it("shows the conditions, revisions and members of each cluster", () => {
    expect(page).toContain('<section class="cluster" data-cluster="dev">');
    for (const condition of ["Ready", "Reconciling", "Stalled", "HealthGatePassed"])
      expect(page).toContain(`<th scope="row">${condition}</th>`);
    expect(page).toContain("<dt>last attempted</dt>");
    expect(page).toContain(`<code title="${"a".repeat(40)}">${"a".repeat(12)}</code>`);
    // Three voters led by m1 and a learner, with version, sizes and applied index.
    expect(page.match(/<td class="role leader">leader<\/td>/g)).toHaveLength(1);
    expect(page.match(/<td class="role follower">follower<\/td>/g)).toHaveLength(2);
    expect(page).toContain('<td class="role learner">learner</td>');
    expect(page).toContain("<td>3.4.23</td><td>20.0 KiB</td><td>16.0 KiB</td><td>90</td>");
  });

  it("shows the rollout's member timeline and the last passes", () => {
    expect(page).toContain('<div class="rollout" data-running="true">');
    expect(page).toMatch(/<code>i-0004<\/code><br><small>00000000000000a4<\/small>/);
    expect(page).toMatch(/learner added<span class="msg">/);
    expect(page).toMatch(/promoted<span class="msg">promoted to voting member/);
    expect(page).toContain("<b>apply-started</b>");
    expect(page).toContain('<span class="badge bad">failed</span> applying revision aaaa');
  });

  it("has no inline script, style or event handler, for a CSP that allows none", () => {
    expect(page.match(/<script\b[^>]*>/g)).toEqual(['<script defer src="/dashboard.js">']);
    expect(page).not.toMatch(/<style\b/);
    expect(page).not.toMatch(/\sstyle=/);
    expect(page).not.toMatch(/\son[a-z]+=/i);
    expect(page).toContain('<main id="live" data-events="/events">');
    expect(page).toContain("<noscript>");
  });
});

describe("hostile names and messages", () => {
  it("are shown escaped, never as markup", () => {
    const hostile = {
      cluster: `x"><script>alert(1)</script>`,
      message: `<img src=x onerror=alert(2)> & 'quotes'`,
      subject: `</q><iframe src="//evil">`,
    };
    const page = renderDashboard(viewOf(hostile));
    expect(page).not.toContain("<script>alert");
    expect(page).not.toContain("<img");
    expect(page).not.toContain("<iframe");
    expect(page).toContain(`data-cluster="${escapeHtml(hostile.cluster)}"`);
    expect(page).toContain(escapeHtml(hostile.message));
    expect(page).toContain("&lt;img src=x onerror=alert(2)&gt; &amp; &#39;quotes&#39;");
  });

  it("add no tag and no attribute quote, whatever they hold (property)", () => {
    const count = (html: string, c: string) => html.split(c).length - 1;
    const safe = renderLive(viewOf({ cluster: "c", message: "m", subject: "s" }));
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (cluster, message, subject) => {
        const html = renderLive(
          viewOf({ cluster: `c${cluster}`, message: `m${message}`, subject: `s${subject}` }),
        );
        for (const c of ["<", ">", '"', "'"]) expect(count(html, c)).toBe(count(safe, c));
      }),
      { numRuns: 200 },
    );
  });

  it("lose the credentials of any URL they quote", () => {
    const page = renderDashboard(
      viewOf({
        ...PLAIN,
        message: "Cannot fetch https://x-access-token:ghp_SECRET@github.com/acme/infra.git",
      }),
    );
    expect(page).not.toContain("ghp_SECRET");
    expect(page).toContain("https://x-access-token:***@github.com/acme/infra.git");
  });
});
