// What the bootstrap script does with curl against 169.254.169.254, done over
// HTTP against the instance's own metadata service: the boot reads what a real
// instance would read, by the same route.
import { INSTANCE_TAG, type PeerList, readPeerListTags } from "../../render/contract.js";
import { TOKEN_HEADER, TOKEN_PATH, TOKEN_TTL_HEADER } from "./metadataService.js";

const TAGS_PATH = "/latest/meta-data/tags/instance/";
const REQUEST_TIMEOUT_MS = 2_000;

export interface MetadataClient {
  get(path: string): Promise<string | undefined>;
  /** The peer list from the instance tags, or undefined until every part is visible. */
  peerList(): Promise<PeerList | undefined>;
}

export async function openMetadataClient(
  baseUrl: string,
  signal: AbortSignal,
): Promise<MetadataClient> {
  const request = async (method: string, path: string, headers: Record<string, string>) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
    });
    return { status: res.status, body: await res.text() };
  };

  const tokenReply = await request("PUT", TOKEN_PATH, { [TOKEN_TTL_HEADER]: "21600" });
  if (tokenReply.status !== 200) {
    throw new Error(`instance metadata refused a token: HTTP ${tokenReply.status}`);
  }
  const auth = { [TOKEN_HEADER]: tokenReply.body };

  const get = async (path: string): Promise<string | undefined> => {
    const reply = await request("GET", path, auth);
    if (reply.status === 404) return undefined;
    if (reply.status !== 200) throw new Error(`instance metadata ${path}: HTTP ${reply.status}`);
    return reply.body;
  };

  const peerList = async (): Promise<PeerList | undefined> => {
    const keys = ((await get(TAGS_PATH)) ?? "").split("\n");
    const wanted = keys.filter(
      (key) =>
        key.startsWith(INSTANCE_TAG.initialClusterPartPrefix) ||
        key === INSTANCE_TAG.initialClusterState ||
        key === INSTANCE_TAG.initialClusterToken ||
        key === INSTANCE_TAG.initialClusterParts,
    );
    const tags: Record<string, string> = {};
    for (const key of wanted) {
      const value = await get(`${TAGS_PATH}${encodeURIComponent(key)}`);
      if (value !== undefined) tags[key] = value;
    }
    return readPeerListTags(tags);
  };

  return { get, peerList };
}
