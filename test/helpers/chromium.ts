// Headless Chromium for the tests that need a real browser (the dashboard, the
// Mermaid chart): Debian's /usr/bin/chromium driven by playwright-core, which
// downloads no browser of its own. Every launch gets a fresh profile directory,
// and the flags keep the browser from reaching any network service by itself.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";

export interface TestBrowser {
  /** A persistent context on the fresh profile (playwright passes --user-data-dir itself). */
  context: BrowserContext;
  /** A temp directory of this launch, for screenshots; removed by close(). */
  dir: string;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `${CHROMIUM_PATH} is missing: apt-get install chromium (bash .ci/run installs it from debian-packages.txt)`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "quorate-browser-"));
  const profile = join(dir, "profile");
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1366, height: 768 },
    timeout: 30_000,
  });
  return {
    context,
    dir,
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
