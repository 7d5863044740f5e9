// NextToken pagination: the token names the last item returned, so pages stay
// right while items are added (a stack's events grow at the newest end).
import { AwsError } from "./awsError.js";

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

export function paginate<T>(
  items: readonly T[],
  token: string | undefined,
  size: number,
  keyOf: (item: T) => string,
  invalidTokenCode = "ValidationError",
): Page<T> {
  let start = 0;
  if (token) {
    let key: string;
    try {
      key = Buffer.from(token, "base64url").toString("utf8");
    } catch {
      key = "";
    }
    const at = items.findIndex((item) => keyOf(item) === key);
    if (at < 0)
      throw new AwsError(
        invalidTokenCode,
        "Invalid NextToken: it does not name a place in this listing; start again without it",
      );
    start = at + 1;
  }
  const slice = items.slice(start, start + size);
  const last = slice.at(-1);
  if (start + size < items.length && last !== undefined) {
    return { items: slice, nextToken: Buffer.from(keyOf(last), "utf8").toString("base64url") };
  }
  return { items: slice };
}
