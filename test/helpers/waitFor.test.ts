import { describe, expect, it } from "vitest";
import { waitFor } from "./waitFor.js";

describe("waitFor", () => {
  it("returns the first value that is not false, retrying failed checks", async () => {
    let calls = 0;
    const value = await waitFor(
      "the third call",
      () => {
        calls++;
        if (calls === 1) throw new Error("refused");
        return calls === 3 && `call ${calls}`;
      },
      { intervalMs: 1 },
    );
    expect(value).toBe("call 3");
    expect(calls).toBe(3);
  });

  it("passes once an expect inside the check holds", async () => {
    let n = 0;
    await waitFor("n to reach 2", () => expect(++n).toBe(2), { intervalMs: 1 });
    expect(n).toBe(2);
  });

  it("names what it waited for and the last failure when time runs out", async () => {
    await expect(
      waitFor("the moon", () => expect("cheese").toBe("rock"), { timeoutMs: 50, intervalMs: 5 }),
    ).rejects.toThrow(/timed out after 50 ms waiting for the moon: expected 'cheese' to be 'rock'/);
    await expect(waitFor("never", () => false, { timeoutMs: 20, intervalMs: 5 })).rejects.toThrow(
      "waiting for never (the check kept returning false)",
    );
  });

  it("gives up on a check that hangs", async () => {
    const hang = () => new Promise<never>(() => {});
    await expect(waitFor("a hung request", hang, { timeoutMs: 30 })).rejects.toThrow(
      "timed out after 30 ms waiting for a hung request",
    );
  });
});
