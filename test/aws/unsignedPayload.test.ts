// What quorate's S3 client sends over plain HTTP (the local cloud): a body held
// in memory is signed as UNSIGNED-PAYLOAD, as the SDK does itself over HTTPS,
// and is still checked by its CRC32; a small JSON body keeps its signed sha256.
// The server is a loopback listener that records each request's headers (the
// real client's requests, not a fake S3: it only answers 200).
import { createHash } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createAwsClientPool } from "../../src/aws/clients.js";

let server: Server;
const seen: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on("end", () => res.writeHead(200, { etag: '"x"' }).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

it("sends a part's bytes unsigned with their CRC32, and a string body signed", async () => {
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const s3 = createAwsClientPool({ endpoint }, {})("eu-west-1").s3;
  await s3.send(new PutObjectCommand({ Bucket: "b", Key: "part", Body: Buffer.alloc(1024, 7) }));
  const json = '{"a":1}\n';
  await s3.send(new PutObjectCommand({ Bucket: "b", Key: "manifest.json", Body: json }));
  expect(seen).toHaveLength(2);
  expect(seen[0]?.["x-amz-content-sha256"]).toBe("UNSIGNED-PAYLOAD");
  expect(seen[0]?.["x-amz-checksum-crc32"]).toMatch(/^[A-Za-z0-9+/]{6}==$/);
  expect(seen[0]?.authorization).toMatch(/SignedHeaders=[^,]*x-amz-content-sha256/);
  expect(seen[1]?.["x-amz-content-sha256"]).toBe(createHash("sha256").update(json).digest("hex"));
});
