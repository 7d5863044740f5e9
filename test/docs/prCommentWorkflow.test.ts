// The PR-comment workflow example runs with write access on a fork's artifact,
// so the artifact's PR number must be checked against the run it came from.
// GitHub's API cannot run here: the script runs against a small stand-in of
// github-script's `github` and `context` that records what it would post.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const WORKFLOW = new URL("../../examples/github-actions/quorate-plan-comment.yml", import.meta.url);

function commentScript(): string {
  const workflow = parse(readFileSync(WORKFLOW, "utf8"));
  const step = workflow.jobs.comment.steps.find((s: { uses?: string }) =>
    s.uses?.startsWith("actions/github-script@"),
  );
  return step.with.script;
}

const RUN_HEAD = "1111111111111111111111111111111111111111";

async function runScript(prNumber: string, prHeads: Record<number, string>) {
  const posted: { issue_number?: number; comment_id?: number; body: string }[] = [];
  const files: Record<string, string> = { "pr-number": prNumber, "plan.md": "## quorate plan\n" };
  const github = {
    paginate: async () => [],
    rest: {
      pulls: {
        get: async ({ pull_number }: { pull_number: number }) => {
          const sha = prHeads[pull_number];
          if (!sha) throw new Error(`Not Found: pull ${pull_number}`);
          return { data: { number: pull_number, head: { sha } } };
        },
      },
      issues: {
        listComments: async () => ({ data: [] }),
        createComment: async (args: { issue_number: number; body: string }) => {
          posted.push(args);
        },
        updateComment: async (args: { comment_id: number; body: string }) => {
          posted.push(args);
        },
      },
    },
  };
  const context = {
    repo: { owner: "acme", repo: "etcd" },
    payload: { workflow_run: { head_sha: RUN_HEAD, id: 7 } },
  };
  const fakeRequire = (name: string) => {
    if (name !== "node:fs" && name !== "fs") throw new Error(`unexpected require ${name}`);
    return { readFileSync: (path: string) => files[path] ?? "" };
  };
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
  const run = new AsyncFunction("require", "github", "context", commentScript());
  let error: unknown;
  try {
    await run(fakeRequire, github, context);
  } catch (e) {
    error = e;
  }
  return { posted, error };
}

describe("the PR-comment workflow example", () => {
  it("comments on the pull request whose head is the commit the plan ran on", async () => {
    const { posted, error } = await runScript("42\n", { 42: RUN_HEAD });
    expect(error).toBeUndefined();
    expect(posted).toEqual([
      expect.objectContaining({
        issue_number: 42,
        body: "<!-- quorate-plan -->\n## quorate plan\n",
      }),
    ]);
  });

  it("refuses an artifact that names another pull request (a fork pointing the bot elsewhere)", async () => {
    const { posted, error } = await runScript("7", {
      7: "2222222222222222222222222222222222222222",
    });
    expect(String(error)).toContain("is not the head of pull request #7");
    expect(posted).toEqual([]);
  });

  it("refuses an artifact that names an issue, not a pull request", async () => {
    const { posted, error } = await runScript("9", {});
    expect(error).toBeDefined();
    expect(posted).toEqual([]);
  });
});
