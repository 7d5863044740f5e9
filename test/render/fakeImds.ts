// A loopback instance metadata service for running the rendered bootstrap:
// IMDSv2 only (a session token on every read), as the launch template asks,
// serving the instance id, its address and its metadata tags.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ImdsInstance {
  id: string;
  ip: string;
  tags: Map<string, string>;
}

export async function startImds(instance: ImdsInstance): Promise<Server> {
  const tokens = new Set<string>();
  const server = createServer((req, res) => {
    const url = req.url ?? "";
    if (req.method === "PUT" && url === "/latest/api/token") {
      if (!req.headers["x-aws-ec2-metadata-token-ttl-seconds"]) return res.writeHead(400).end();
      const token = `token-${tokens.size}`;
      tokens.add(token);
      return res.writeHead(200).end(token);
    }
    if (!tokens.has(String(req.headers["x-aws-ec2-metadata-token"])))
      return res.writeHead(401).end();
    const tagPrefix = "/latest/meta-data/tags/instance/";
    let body: string | undefined;
    if (url === "/latest/meta-data/instance-id") body = instance.id;
    else if (url === "/latest/meta-data/local-ipv4") body = instance.ip;
    else if (url === tagPrefix) body = [...instance.tags.keys()].join("\n");
    else if (url.startsWith(tagPrefix))
      body = instance.tags.get(decodeURIComponent(url.slice(tagPrefix.length)));
    if (body === undefined) return res.writeHead(404).end();
    res.writeHead(200).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

/** The endpoint to hand the bootstrap as QUORATE_IMDS_ENDPOINT. */
export function imdsEndpoint(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
