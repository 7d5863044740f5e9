import { afterEach, describe, expect, it } from "vitest";
import { openMetadataClient } from "../../../src/localcloud/instances/metadataClient.js";
import {
  type MetadataService,
  startMetadataService,
} from "../../../src/localcloud/instances/metadataService.js";
import { peerListTags } from "../../../src/render/contract.js";
import { randomLoopbackPrefix } from "./fakeHost.js";

const TTL = "x-aws-ec2-metadata-token-ttl-seconds";
const TOKEN = "x-aws-ec2-metadata-token";

let service: MetadataService | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

async function start(tags: Record<string, string> = {}, now?: () => number) {
  const address = `${randomLoopbackPrefix()}.7`;
  service = await startMetadataService({
    address,
    port: 0,
    instanceId: "i-0123456789abcdef0",
    imageId: "ami-0fedcba987654321",
    userDataBase64: Buffer.from('{"ignition":{}}').toString("base64"),
    tags: () => tags,
    ...(now ? { now } : {}),
  });
  const base = `http://${address}:${service.port}`;
  const token = async (ttl = "60") => {
    const res = await fetch(`${base}/latest/api/token`, { method: "PUT", headers: { [TTL]: ttl } });
    expect(res.status).toBe(200);
    expect(res.headers.get(TTL)).toBe(ttl);
    return res.text();
  };
  const get = async (path: string, token?: string) => {
    const res = await fetch(`${base}${path}`, token ? { headers: { [TOKEN]: token } } : {});
    return { status: res.status, body: await res.text() };
  };
  return { address, base, token, get };
}

describe("instance metadata service (IMDSv2)", () => {
  it("serves the instance's metadata to requests that carry a session token", async () => {
    const { address, token, get } = await start();
    const t = await token();
    expect(await get("/latest/meta-data/instance-id", t)).toEqual({
      status: 200,
      body: "i-0123456789abcdef0",
    });
    expect((await get("/latest/meta-data/local-ipv4", t)).body).toBe(address);
    expect((await get("/latest/meta-data/ami-id", t)).body).toBe("ami-0fedcba987654321");
    expect((await get("/latest/user-data", t)).body).toBe('{"ignition":{}}');
    expect((await get("/latest/meta-data/no-such-thing", t)).status).toBe(404);
  });

  it("answers 401 without a token, with an unknown token, and once the token expired", async () => {
    let clock = 1_000_000;
    const { token, get } = await start({}, () => clock);
    expect((await get("/latest/meta-data/instance-id")).status).toBe(401);
    expect((await get("/latest/meta-data/instance-id", "made-up")).status).toBe(401);
    const t = await token("30");
    expect((await get("/latest/meta-data/instance-id", t)).status).toBe(200);
    clock += 30_000;
    expect((await get("/latest/meta-data/instance-id", t)).status).toBe(401);
  });

  it("refuses token requests without a valid TTL, through a proxy, or not by PUT", async () => {
    const { base } = await start();
    const put = (headers: Record<string, string>) =>
      fetch(`${base}/latest/api/token`, { method: "PUT", headers }).then((r) => r.status);
    expect(await put({})).toBe(400);
    expect(await put({ [TTL]: "0" })).toBe(400);
    expect(await put({ [TTL]: "21601" })).toBe(400);
    expect(await put({ [TTL]: "60", "x-forwarded-for": "10.0.0.1" })).toBe(403);
    expect((await fetch(`${base}/latest/api/token`)).status).toBe(405);
  });

  it("lists instance tags as they are now, not as they were at launch", async () => {
    const tags: Record<string, string> = { Name: "etcd" };
    const { token, get } = await start(tags);
    const t = await token();
    expect((await get("/latest/meta-data/tags/instance/", t)).body).toBe("Name");
    tags["quorate.dev:initial-cluster-state"] = "new";
    expect((await get("/latest/meta-data/tags/instance/", t)).body).toBe(
      "Name\nquorate.dev:initial-cluster-state",
    );
    expect(
      (
        await get(
          `/latest/meta-data/tags/instance/${encodeURIComponent("quorate.dev:initial-cluster-state")}`,
          t,
        )
      ).body,
    ).toBe("new");
    expect((await get("/latest/meta-data/tags/instance/Missing", t)).status).toBe(404);
  });
});

describe("metadata client (what the bootstrap reads)", () => {
  it("reads a peer list split over several tags only once every part is visible", async () => {
    const initialCluster = Array.from(
      { length: 9 },
      (_, i) => `i-0000000000000000${i}=http://127.150.0.${i + 1}:2380`,
    ).join(",");
    const peers = { state: "new" as const, token: "tok", initialCluster };
    const all = peerListTags(peers);
    expect(Object.keys(all).length).toBeGreaterThan(4); // the list needs several parts
    const tags: Record<string, string> = { Name: "etcd" };
    const { base } = await start(tags);
    const client = await openMetadataClient(base, new AbortController().signal);
    const [last, ...rest] = Object.keys(all).reverse();
    for (const key of rest) tags[key] = all[key] as string;
    expect(await client.peerList()).toBeUndefined();
    tags[last as string] = all[last as string] as string;
    expect(await client.peerList()).toEqual(peers);
  });
});
